/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec-through: a static program that does nothing but execute argv[0] with its own arguments,
 * the way sdcompat-shim ends (it runs under the name of the binary it hands over to). bench/shim
 * times it as the floor of any shim: one more exec and one more C library start-up, without the
 * shim's own work. */

#include <stdio.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        (void) argc;
        execv(argv[0], argv);
        perror("exec-through: execv");
        return 127;
}
