#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "cowstat export" on the host, without the module (the pagemap backend), scraped by a real
# Prometheus: selftests/export_test.py --host. The same script runs in the guests with the
# module (scripts/guest-run.sh runs selftests/*_test.py).
top=$(cd "$(dirname "$0")/.." && pwd)
exec "$top/selftests/export_test.py" --host
