#!/usr/bin/python3
"""Check an exprun HDF5 file the way a user would read it: with h5py, and pandas if present.

Tests call it as `/usr/bin/python3 tests/check_results.py FILE [checks]`; every check that is
given must hold. Exit status: 0 all checks hold, 1 a check failed, 2 bad usage or unreadable file,
3 h5py is not installed (the calling test then skips).

Checks:
  --table PATH            the compound table the column checks refer to (e.g. /metrics/train);
                          it is read into a pandas DataFrame (numpy structured array without pandas)
  --columns a,b,c         the table's columns, in this order
  --int-columns a,b       these columns are int64, every other one float64
  --rows N                the table has N rows
  --value COL:ROW=V       table[COL][ROW] == V (exact for integers, 1e-12 relative for floats)
  --attr NAME=V           root attribute NAME is a str (not bytes) equal to V
  --attr-int NAME=V       root attribute NAME is an integer equal to V
  --obj-attr PATH:NAME=V  attribute NAME of PATH is a str equal to V
  --string PATH=V         scalar string dataset PATH reads (as UTF-8) to V
  --shape PATH=AxB        dataset PATH has shape (A, B) ("scalar" for ())
  --dtype PATH=float32    dataset PATH has this numpy dtype
"""
import argparse
import math
import sys

try:
    import h5py
except ImportError:
    print("check_results.py: h5py is not installed for", sys.executable)
    sys.exit(3)
try:
    import pandas as pd
except ImportError:
    pd = None


def split_eq(text, what):
    if "=" not in text:
        raise SystemExit(f"check_results.py: {what} '{text}' needs the form KEY=VALUE")
    key, value = text.split("=", 1)
    return key, value


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--table")
    ap.add_argument("--columns")
    ap.add_argument("--int-columns")
    ap.add_argument("--rows", type=int)
    ap.add_argument("--value", action="append", default=[])
    ap.add_argument("--attr", action="append", default=[])
    ap.add_argument("--attr-int", action="append", default=[])
    ap.add_argument("--obj-attr", action="append", default=[])
    ap.add_argument("--string", action="append", default=[])
    ap.add_argument("--shape", action="append", default=[])
    ap.add_argument("--dtype", action="append", default=[])
    args = ap.parse_args()

    failures = []

    def check(ok, message):
        if not ok:
            failures.append(message)

    try:
        f = h5py.File(args.file, "r")
    except OSError as e:
        print(f"check_results.py: cannot open {args.file}: {e}")
        return 2

    with f:
        for item in args.attr:
            name, want = split_eq(item, "--attr")
            got = f.attrs.get(name)
            check(isinstance(got, str), f"attr {name}: {got!r} is {type(got).__name__}, not str")
            check(got == want, f"attr {name}: {got!r} != {want!r}")
        for item in args.attr_int:
            name, want = split_eq(item, "--attr-int")
            got = f.attrs.get(name)
            check(got is not None and int(got) == int(want) and float(got) == int(got),
                  f"attr {name}: {got!r} != {want}")
        for item in args.obj_attr:
            key, want = split_eq(item, "--obj-attr")
            path, name = key.rsplit(":", 1)
            got = f[path].attrs.get(name) if path in f else None
            check(isinstance(got, str) and got == want, f"attr {name} of {path}: {got!r} != {want!r}")
        for item in args.string:
            path, want = split_eq(item, "--string")
            got = f[path].asstr()[()] if path in f else None
            check(got == want, f"dataset {path}: {got!r} != {want!r}")
        for item in args.shape:
            path, want = split_eq(item, "--shape")
            want_shape = () if want == "scalar" else tuple(int(x) for x in want.split("x"))
            got = f[path].shape if path in f else None
            check(got == want_shape, f"dataset {path}: shape {got} != {want_shape}")
        for item in args.dtype:
            path, want = split_eq(item, "--dtype")
            got = str(f[path].dtype) if path in f else None
            check(got == want, f"dataset {path}: dtype {got} != {want}")

        if args.table:
            if args.table not in f:
                print(f"check_results.py: {args.file} has no {args.table}")
                return 1
            data = f[args.table][()]
            names = list(data.dtype.names or [])
            if pd is not None:
                table = pd.DataFrame(data)
                columns = list(table.columns)
                nrows = len(table)
                column = lambda c: table[c].to_numpy()
                kind = lambda c: table[c].dtype.kind
                print(f"check_results.py: read {args.table} with pandas {pd.__version__}: "
                      f"{nrows} rows x {len(columns)} columns")
            else:
                columns = names
                nrows = data.shape[0]
                column = lambda c: data[c]
                kind = lambda c: data.dtype[c].kind
                print(f"check_results.py: pandas not installed; read {args.table} with numpy")
            if args.columns is not None:
                want = args.columns.split(",")
                check(columns == want, f"table {args.table}: columns {columns} != {want}")
            if args.int_columns is not None:
                ints = set(x for x in args.int_columns.split(",") if x)
                for c in columns:
                    want_kind = "i" if c in ints else "f"
                    check(kind(c) == want_kind, f"table {args.table}: column {c} has dtype kind "
                          f"{kind(c)!r}, expected {want_kind!r}")
            if args.rows is not None:
                check(nrows == args.rows, f"table {args.table}: {nrows} rows != {args.rows}")
            for item in args.value:
                key, want = split_eq(item, "--value")
                col, row = key.rsplit(":", 1)
                if col not in columns or int(row) >= nrows:
                    failures.append(f"table {args.table}: no cell {col}[{row}]")
                    continue
                got = column(col)[int(row)]
                if kind(col) in "iu":
                    check(int(got) == int(want), f"table {args.table}: {col}[{row}] = {got} != {want}")
                else:
                    w = float(want)
                    same = (math.isnan(w) and math.isnan(got)) or \
                        abs(float(got) - w) <= 1e-12 * max(1.0, abs(w))
                    check(same, f"table {args.table}: {col}[{row}] = {got!r} != {w!r}")

    for message in failures:
        print("check_results.py: FAILED", message)
    if not failures:
        print(f"check_results.py: {args.file}: all checks hold")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
