# shellcheck shell=bash
# Sourced by every tests/bench/*.sh: from the repository root, installs what is missing, obtains routes.dat and
# the reference files, builds (RelWithDebInfo), and starts a local broker unless KAFKA_BOOTSTRAP_SERVERS names one
# (stopped when the benchmark's shell exits).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=../../deploy/lib.sh
source deploy/lib.sh
need_packages --tests
obtain_routes
build_project >&2
start_kafka_if_needed >&2
