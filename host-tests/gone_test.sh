#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/gone_test on the host: a process that exits while show and tree read it, with the
# pagemap backend (the module variants skip here; the guest runs them all).
exec "$(dirname "$0")/../selftests/gone_test"
