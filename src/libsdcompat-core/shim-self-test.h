/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The self-test of sdcompat-shim, `sdcompat-shim --self-test=PLAN`: how `sdcompat negotiate` asks a
 * root's newer shim, before it mounts it, whether it runs on this machine and understands the plan
 * (shim-select.h decides; sdcompat-shim(8) documents the mode). The shim reads PLAN with the plan
 * file reader (plan-file.h) and nothing else: no mount, no exec, no state, no cgroup. It prints
 * KEY=value lines (envfile.h) and exits 0 only when it understands the plan:
 *
 *   SDCOMPAT_SHIM_SELF_TEST=1     the version of this protocol
 *   SDCOMPAT_SHIM_VERSION=0.1     the shim's PACKAGE_VERSION
 *   PLAN_VERSIONS=1-1             the plan format versions it reads
 *   ACTIONS="..."                 every action it knows (action.h's names)
 *   PLAN=understood|refused
 *   REASON="..."                  why it refused (only then)
 *
 * The first two lines are one string in the shim's binary (SDC_SHIM_SELF_TEST_HEAD, then the
 * version and a newline): negotiate reads the version from the file before it executes anything, so
 * a program without this mode (an older shim, which would take the option for a PID 1's argument
 * and hand it on to systemd) is never run, and a shim that is not newer is never run either. */

#define SDC_SHIM_SELF_TEST_PROTOCOL "1"
#define SDC_SHIM_SELF_TEST_HEAD     "SDCOMPAT_SHIM_SELF_TEST=" SDC_SHIM_SELF_TEST_PROTOCOL "\nSDCOMPAT_SHIM_VERSION="
#define SDC_SHIM_SELF_TEST_OPTION   "--self-test="

/* Exit statuses of the self-test. */
#define SDC_SHIM_SELF_TEST_UNDERSTOOD 0
#define SDC_SHIM_SELF_TEST_REFUSED    1
