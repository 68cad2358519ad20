/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sdcompat-probe: prints what a directory tree or an initramfs image holds of systemd, as JSON.
 * Built statically with -Dstatic-programs=true, like everything that runs inside an initramfs;
 * it is also the smallest program that exercises the whole core library. */

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "assess.h"
#include "json.h"
#include "log.h"
#include "probe.h"
#include "tree-image.h"
#include "tree.h"

static void help(void) {
        printf("%s [OPTIONS...] PATH\n\n"
               "Prints the systemd facts of a root directory or an initramfs image as JSON.\n\n"
               "  -h --help        Show this help\n"
               "     --version     Show the version\n"
               "     --image       PATH is an initramfs image (default: a directory)\n"
               "     --initrd      Probe a directory as an initramfs (its init is /init)\n",
               program_invocation_short_name);
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_IMAGE, ARG_INITRD };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "image", no_argument, NULL, ARG_IMAGE },
                { "initrd", no_argument, NULL, ARG_INITRD },
                {}
        };
        _cleanup_(sdc_tree_freep) SdcTree *t = NULL;
        SdcImageLimits limits = { SDC_IMAGE_DEFAULT_MAX_UNPACKED, SDC_IMAGE_DEFAULT_MAX_ENTRIES };
        SdcImageError err = {};
        SdcTreeFacts facts = {};
        bool image = false, initrd = false;
        JsonWriter w;
        int c, r;

        log_set_prefix(program_invocation_short_name);
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h': help(); return 0;
                case ARG_VERSION: printf("sdcompat-probe %s\n", PACKAGE_VERSION); return 0;
                case ARG_IMAGE: image = true; break;
                case ARG_INITRD: initrd = true; break;
                default: return 2;
                }
        if (optind + 1 != argc) {
                log_error("Expected exactly one PATH (see --help).");
                return 2;
        }

        if (image)
                r = sdc_tree_open_image(AT_FDCWD, argv[optind], &limits, &t, &err);
        else
                r = sdc_tree_open_dir(AT_FDCWD, argv[optind], 0, &t);
        if (r < 0) {
                if (err.message[0])
                        log_error("%s: at byte %" PRIu64 ": %s", argv[optind], err.offset, err.message);
                else
                        log_error_errno(r, "%s: %m", argv[optind]);
                return 2;
        }
        r = sdc_probe_tree(t, image || initrd ? SDC_ROLE_INITRD : SDC_ROLE_ROOT, &facts);
        if (r < 0) {
                log_error_errno(r, "%s: cannot probe: %m", argv[optind]);
                return 2;
        }
        json_init(&w, stdout, true);
        sdc_tree_facts_to_json(&w, NULL, &facts);
        json_finish(&w);
        sdc_tree_facts_done(&facts);
        return 0;
}
