/* export.h — `exprun export RUN_DIR -o FILE [--format safetensors|onnx] [--checkpoint best|latest|FILE]`.
 *
 * A trained model for tools other than exprun, from one of the run's checkpoints (default the
 * latest), read and verified (seal and checksums, checkpoint.h) without the run's data:
 *   safetensors   the parameters under PyTorch's state_dict names (torchnames.h), float32, with
 *                 __metadata__: format "pt", exprun_version, checkpoint, spec (the resolved spec),
 *                 torch_modules (the torch.nn modules they load into, one per line).
 *   onnx          the model as an ONNX graph, opset 17 (onnxexport.h): autoencoders and the
 *                 sequence family; exit 2 for the others, nothing written.
 * The format comes from --format, or from FILE's extension (.safetensors, .onnx). FILE is published
 * whole or not at all; exprun's own run files are never written over. */
#ifndef EXPRUN_EXPORT_H
#define EXPRUN_EXPORT_H

/* argv holds the arguments after "export"; returns an exit status (train.h). */
int command_export(int argc, char **argv);

#endif
