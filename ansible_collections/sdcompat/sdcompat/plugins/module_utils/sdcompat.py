# -*- coding: utf-8 -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
# GNU Lesser General Public License v2.1 or later (see https://www.gnu.org/licenses/lgpl-2.1.txt)
"""What the sdcompat modules share: finding the program and reading its JSON report."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

# The report schema these modules read (sdcompat-check(8), sdcompat-inject(8)).
SCHEMA_VERSION = 1


def find_program(module, exe):
    """EXE as given when it has a slash, else found on PATH or in /usr/sbin and /sbin (fails the task when missing)."""
    if '/' in exe:
        return exe
    return module.get_bin_path(exe, required=True, opt_dirs=['/usr/sbin', '/sbin'])


def run_report(module, cmd, program, usage_rc=None):
    """Runs CMD and returns (rc, report, stderr); fails the task on the exit status USAGE_RC (a usage
    error), and when PROGRAM printed no JSON report or one of another schema."""
    rc, out, err = module.run_command(cmd)
    if usage_rc is not None and rc == usage_rc:
        module.fail_json(msg='%s: usage error: %s' % (program, err.strip()), rc=rc, stderr=err, cmd=cmd)
    try:
        report = json.loads(out)
    except ValueError:
        module.fail_json(msg='%s gave no report (exit status %d): %s' % (program, rc, err.strip()),
                         rc=rc, stdout=out, stderr=err, cmd=cmd)
    if not isinstance(report, dict) or report.get('schema_version') != SCHEMA_VERSION:
        module.fail_json(msg='%s report has schema_version %r; this module reads %d'
                         % (program, report.get('schema_version') if isinstance(report, dict) else None,
                            SCHEMA_VERSION), report=report, rc=rc, stderr=err, cmd=cmd)
    return rc, report, err
