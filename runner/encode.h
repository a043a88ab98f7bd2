/* encode.h — `exprun encode RUN_DIR DATA [--labels FILE] [--out FILE] [--quiet]`.
 *
 * The lecture's "what autoencoders are for" (representation learning, dimensionality reduction,
 * clustering, anomaly detection) starts from the codes h = g(W x + b) of a dataset. encode
 * writes them to HDF5 with each example's reconstruction error and, where the data has them,
 * its labels:
 *   /codes                  float32 (n, K)   h of every example, in file order
 *   /reconstruction_error   float64 (n)      the run's loss of that example alone (squared error
 *                                            Σ_j (x̂_j − x_j)² or cross-entropy, summed over the values)
 *   /squared_error          float64 (n)      Σ_j (x̂_j − x_j)², whatever the loss
 *   /labels                 int32 (n)        when the data has labels
 *   /                       attrs kind = "codes", run_dir, checkpoint, data, loss, code_size, ...
 * DATA is a file in the run's format (data.source: IDX, CSV or HDF5, read with the run's options),
 * scaled exactly as in training: the scaler is refitted on the run's own training split (same
 * spec, same seed, same split), which reproduces it bit for bit. DATA may also be `train`,
 * `val` or `test` for the run's own splits. IDX labels come from --labels, or from the spec when
 * DATA is the run's data.path or data.test_path, or from the file next to DATA named with
 * "labels-idx1" for "images-idx3" (the MNIST naming). The weights are the latest checkpoint's.
 * Default output: RUN_DIR/codes-NAME.h5 (NAME = DATA's file name without extensions). */
#ifndef EXPRUN_ENCODE_H
#define EXPRUN_ENCODE_H

/* argv holds the arguments after "encode"; returns an exit status (train.h). */
int command_encode(int argc, char **argv);

#endif
