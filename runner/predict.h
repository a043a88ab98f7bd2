/* predict.h — `exprun predict RUN_DIR INPUT.h5 [-o OUT.h5] [--checkpoint best|latest|FILE]`.
 *
 * A trained sequence model (model.type rnn, lstm or gru) applied to sequences, without training
 * code: INPUT.h5 holds /tokens (N, T) integers (token ids of the run's vocabulary: results.h5's
 * /vocab) or /x (N, T, d) floats (features as the model takes them, scaled as the run scaled
 * its data), T at most the run's sequence length; OUT.h5 (default RUN_DIR/predictions-NAME.h5)
 * gets /y, the head's outputs — logits before the softmax for a softmax head — (N, T, n_out) per
 * step or (N, n_out) for the last step, and attrs kind = "predictions", run_dir, checkpoint,
 * input, head, loss. Each sequence starts from the model's initial state (zero or learned), as
 * the ONNX export's graph does (export.h); the weights are the latest checkpoint's unless
 * --checkpoint says otherwise. seq2seq and one_to_many runs: predictgen.h (greedy decoding,
 * generation from classes). */
#ifndef EXPRUN_PREDICT_H
#define EXPRUN_PREDICT_H

/* argv holds the arguments after "predict"; returns an exit status (train.h). */
int command_predict(int argc, char **argv);

#endif
