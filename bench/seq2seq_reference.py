#!/usr/bin/python3
"""PyTorch reference for exprun's seq2seq configs: the same model and the same kind of data.

An nn.GRU (or nn.LSTM) encoder reads the input (packed, so each row stops at its own length);
its final state starts a decoder of the same shape, trained with teacher forcing and softmax
cross-entropy (padding ignored), evaluated by greedy decoding as exact match on held-out
examples that never occur in training. The data follow lib/data/tasks.h (token ids PAD 0,
GO 1, END 2, characters from 3), drawn with Python's RNG, so the examples differ from
exprun's but come from the same distribution.

    /usr/bin/python3 bench/seq2seq_reference.py reverse --alphabet 10 --min 3 --max 12 --seconds 60
    /usr/bin/python3 bench/seq2seq_reference.py addition --digits 3 --reversed --seconds 60
Prints elapsed seconds, training loss and held-out exact match at every evaluation.
"""
import argparse
import random
import time

import torch
import torch.nn as nn

PAD, GO, END, FIRST = 0, 1, 2, 3


def draw_reverse(rng, k, lo, hi):
    n = rng.randint(lo, hi)
    x = [FIRST + rng.randrange(k) for _ in range(n)]
    return x, x[::-1]


def draw_operand(rng, digits):
    d = rng.randint(1, digits)
    return rng.randrange(10) if d == 1 else rng.randrange(10 ** (d - 1), 10 ** d)


def number(v, reversed_digits):
    s = [FIRST + int(c) for c in str(v)]
    return s[::-1] if reversed_digits else s


def draw_addition(rng, digits, reversed_digits):
    a, b = draw_operand(rng, digits), draw_operand(rng, digits)
    x = number(a, reversed_digits) + [FIRST + 10] + number(b, reversed_digits)
    return x, number(a + b, reversed_digits)


def make_data(args):
    rng = random.Random(args.seed)
    seen, rows = set(), []
    while len(rows) < args.train + args.test:
        if args.task == "reverse":
            x, y = draw_reverse(rng, args.alphabet, args.min, args.max)
        else:
            x, y = draw_addition(rng, args.digits, args.reversed)
        if tuple(x) in seen:
            continue
        seen.add(tuple(x))
        rows.append((x, y + [END]))
    tx = max(len(x) for x, _ in rows)
    ty = max(len(y) for _, y in rows)
    X = torch.full((len(rows), tx), PAD, dtype=torch.long)
    Y = torch.full((len(rows), ty), -1, dtype=torch.long)
    L = torch.zeros(len(rows), dtype=torch.long)
    for i, (x, y) in enumerate(rows):
        X[i, :len(x)] = torch.tensor(x)
        Y[i, :len(y)] = torch.tensor(y)
        L[i] = len(x)
    vocab = FIRST + (args.alphabet if args.task == "reverse" else 11)
    split = args.train
    return (X[:split], L[:split], Y[:split]), (X[split:], L[split:], Y[split:]), vocab


class Seq2Seq(nn.Module):
    def __init__(self, vocab, embed, units, cell):
        super().__init__()
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.emb_in = nn.Embedding(vocab, embed)
        self.emb_out = nn.Embedding(vocab, embed)
        self.enc = rnn(embed, units, batch_first=True)
        self.dec = rnn(embed, units, batch_first=True)
        self.head = nn.Linear(units, vocab)

    def encode(self, x, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(self.emb_in(x), lengths, batch_first=True, enforce_sorted=False)
        _, state = self.enc(packed)
        return state

    def forward(self, x, lengths, y):
        u = torch.cat([torch.full_like(y[:, :1], GO), y[:, :-1].clamp(min=0)], dim=1)
        u[y.roll(1, dims=1) < 0] = END
        u[:, 0] = GO
        out, _ = self.dec(self.emb_out(u), self.encode(x, lengths))
        return self.head(out)

    @torch.no_grad()
    def greedy(self, x, lengths, steps):
        state = self.encode(x, lengths)
        tok = torch.full((x.shape[0], 1), GO, dtype=torch.long)
        outs = []
        for _ in range(steps):
            out, state = self.dec(self.emb_out(tok), state)
            tok = self.head(out).argmax(-1)
            outs.append(tok)
        return torch.cat(outs, dim=1)


def exact_match(model, data):
    x, lengths, y = data
    out = model.greedy(x, lengths, y.shape[1])
    mask = y >= 0
    return ((out == y) | ~mask).all(dim=1).float().mean().item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("task", choices=["reverse", "addition"])
    p.add_argument("--alphabet", type=int, default=10)
    p.add_argument("--min", type=int, default=3)
    p.add_argument("--max", type=int, default=12)
    p.add_argument("--digits", type=int, default=3)
    p.add_argument("--reversed", action="store_true")
    p.add_argument("--cell", default="gru")
    p.add_argument("--units", type=int, default=128)
    p.add_argument("--embed", type=int, default=32)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--train", type=int, default=50000)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, test, vocab = make_data(args)
    model = Seq2Seq(vocab, args.embed, args.units, args.cell)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-1)
    n = train[0].shape[0]
    start, step = time.time(), 0
    while time.time() - start < args.seconds:
        idx = torch.randint(0, n, (args.batch,))
        x, lengths, y = train[0][idx], train[1][idx], train[2][idx]
        loss = loss_fn(model(x, lengths, y).reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        if step % args.eval_every == 0:
            print(f"{time.time() - start:7.1f} s  step {step:6d}  loss {loss.item():.4f}  "
                  f"held-out exact match {exact_match(model, test):.4f}", flush=True)
    print(f"final: {time.time() - start:.1f} s, {step} steps, held-out exact match {exact_match(model, test):.4f}")


if __name__ == "__main__":
    main()
