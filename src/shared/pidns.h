/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* getpid() == 1 holds for the first process of every PID namespace (a container, `unshare -p`),
 * which still sees its host's /run and cgroup file system. What sdcompat does as PID 1 (unmount,
 * convert or release cgroups, move /run/systemd) is for the machine's own PID 1 only.
 *
 * The test: kernel threads live in the initial PID namespace only, and PID 2 is kthreadd there
 * (since Linux 2.6.22): /proc/2/stat carries PF_KTHREAD in its flags, a flag no user process can
 * set, whatever it calls itself. That /proc must be this namespace's own, which /proc/self
 * naming our own PID proves (`unshare -p -f` without --mount-proc shows the host's /proc, where
 * /proc/self is our host PID). Not a compare of /proc/self/ns/pid with /proc/1/ns/pid: inside a
 * container PID 1 is in the same namespace as we are; and the fixed inode number of the initial
 * namespace (0xEFFFFFFC) is a kernel detail of Linux 3.8+ only.
 *
 * 1: the initial PID namespace; 0: another one; negative errno: cannot tell (callers treat it as
 * "another one"). proc is the procfs to read ("/proc"; tests pass a directory of their own). */
int pidns_is_initial(const char *proc);
