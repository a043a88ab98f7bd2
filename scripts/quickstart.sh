#!/usr/bin/env bash
# quickstart.sh — from a fresh Debian machine to the main job: installs what is missing, builds
# exprun, assembles the fortunes text and trains the character-level LSTM of configs/lstm_text.yaml.
# Extra arguments go to exprun as overrides, e.g.: scripts/quickstart.sh train.epochs=1
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash datasets/prepare_fortunes.sh
exec ./build/exprun configs/lstm_text.yaml "$@"
