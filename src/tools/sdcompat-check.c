/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sdcompat-check: preflight for a host. Every boot entry's initramfs × this root × its command
 * line → what the initramfs's systemd hands over at switch-root, and whether that is safe.
 * The tool only parses options, calls the library and prints; see sdcompat-check(8). */

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "assess.h"
#include "bootentry.h"
#include "fileio.h"
#include "json.h"
#include "log.h"
#include "manifest.h"
#include "pairfacts.h"
#include "probe.h"
#include "rules.h"
#include "shim-record.h"
#include "strv.h"
#include "tree-image.h"
#include "tree.h"

/* Documented in sdcompat-check(8); tools consume them. */
enum {
        EXIT_SAFE = 0,    /* no risk found (also: no initramfs on this host) */
        EXIT_AT_RISK = 1, /* at least one entry is at risk */
        EXIT_BLOCKED = 2, /* could not check (and nothing was found at risk), or usage error */
};

static const char *arg_image = NULL;
static const char *arg_root = "/";
static const char *arg_cmdline = NULL;
static const char *arg_boot_dir = "/boot";
typedef enum JsonMode {
        JSON_OFF,
        JSON_PRETTY,
        JSON_SHORT,
} JsonMode;

static JsonMode arg_json = JSON_OFF;
static const char *arg_run_dir = "/run";
static const char *arg_rules_path = SDC_RULES_DIRS_DEFAULT;
static const char *arg_explain = NULL;
static const char *arg_prometheus = NULL;
static unsigned arg_jobs = 0; /* 0: the default, see default_jobs() */
static SdcImageLimits arg_limits = {
        .max_unpacked = SDC_IMAGE_DEFAULT_MAX_UNPACKED,
        .max_entries = SDC_IMAGE_DEFAULT_MAX_ENTRIES,
};

/* The default number of entries checked at once never exceeds this: each worker holds one image's
 * decoder and tree (LIMITS in sdcompat-check(8)), so memory stays a small multiple of one image's. */
#define JOBS_DEFAULT_MAX 8U
#define JOBS_MAX         256U

typedef struct EntryResult {
        const SdcBootEntry *entry;
        char *cmdline;
        /* What the report says about the image itself, copied out of its tree, which is freed as
         * soon as the entry is checked: only the entries being checked hold a tree at a time. */
        bool have_image; /* false if the image could not be read */
        uint64_t image_size;
        SdcImageSegment *segments;
        size_t n_segments;
        SdcTreeFacts facts;
        bool have_facts;
        SdcPairFacts pair;
        bool have_pair;
        SdcManifest manifest;
        bool have_manifest;
        char *manifest_error;
        SdcImageError error;
        char *error_text;
        SdcAssessment assessment;
} EntryResult;

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Checks whether each boot entry's initramfs can hand over safely to this root's systemd.\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --image=FILE           Check this initramfs image instead of the boot entries\n"
               "     --root=DIR             The root file system to check against (default: /)\n"
               "     --cmdline=STRING       Kernel command line to assume (default: the entry's, else\n"
               "                            /proc/cmdline)\n"
               "     --boot-dir=DIR         Where to look for boot entries (default: /boot)\n"
               "     --json=pretty|short|off\n"
               "                            Print one JSON document (schema in sdcompat-check(8));\n"
               "                            --json alone is pretty\n"
               "  -j                        Same as --json=pretty on a terminal, --json=short otherwise\n"
               "     --max-unpacked=SIZE    Refuse images that unpack to more than SIZE (default: 4G)\n"
               "     --rules-path=DIRS      Colon-separated rule directories, highest precedence first\n"
               "                            (default: " SDC_RULES_DIRS_DEFAULT ")\n"
               "     --explain=ID           Explain one hazard rule (e.g. SDC-H1) and exit\n"
               "     --prometheus=FILE      Also write the results for node_exporter's textfile collector\n"
               "     --run-dir=DIR          Where this boot's sdcompat records are (default: /run)\n"
               "  -J --jobs=N               Check up to N boot entries at once (default: the CPUs this\n"
               "                            process may run on, at most %u); the output is the same\n"
               "                            as with -J1, in the entries' order\n"
               "\nExit status: 0 no risk found, 1 at risk, 2 could not check.\n",
               program_invocation_short_name, JOBS_DEFAULT_MAX);
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_IMAGE,
                ARG_ROOT,
                ARG_CMDLINE,
                ARG_BOOT_DIR,
                ARG_JSON,
                ARG_MAX_UNPACKED,
                ARG_RULES_PATH,
                ARG_EXPLAIN,
                ARG_PROMETHEUS,
                ARG_RUN_DIR,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "image", required_argument, NULL, ARG_IMAGE },
                { "root", required_argument, NULL, ARG_ROOT },
                { "cmdline", required_argument, NULL, ARG_CMDLINE },
                { "boot-dir", required_argument, NULL, ARG_BOOT_DIR },
                { "json", optional_argument, NULL, ARG_JSON },
                { "max-unpacked", required_argument, NULL, ARG_MAX_UNPACKED },
                { "rules-path", required_argument, NULL, ARG_RULES_PATH },
                { "explain", required_argument, NULL, ARG_EXPLAIN },
                { "prometheus", required_argument, NULL, ARG_PROMETHEUS },
                { "run-dir", required_argument, NULL, ARG_RUN_DIR },
                { "jobs", required_argument, NULL, 'J' },
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "hjJ:", options, NULL)) >= 0)
                switch (c) {
                case 'h': help(); return 0;
                case ARG_VERSION: printf("sdcompat-check %s\n", PACKAGE_VERSION); return 0;
                case ARG_IMAGE: arg_image = optarg; break;
                case ARG_ROOT: arg_root = optarg; break;
                case ARG_CMDLINE: arg_cmdline = optarg; break;
                case ARG_BOOT_DIR: arg_boot_dir = optarg; break;
                case ARG_JSON:
                        /* systemd's convention; a bare --json keeps meaning what it always did */
                        if (!optarg || streq(optarg, "pretty"))
                                arg_json = JSON_PRETTY;
                        else if (streq(optarg, "short"))
                                arg_json = JSON_SHORT;
                        else if (streq(optarg, "off"))
                                arg_json = JSON_OFF;
                        else if (streq(optarg, "help")) {
                                printf("pretty\nshort\noff\n");
                                return 0;
                        } else
                                return log_error_errno(EINVAL, "Invalid --json=%s (pretty, short or off)", optarg);
                        break;
                case 'j': arg_json = isatty(STDOUT_FILENO) ? JSON_PRETTY : JSON_SHORT; break;
                case ARG_MAX_UNPACKED:
                        r = parse_size(optarg, &arg_limits.max_unpacked);
                        if (r < 0 || arg_limits.max_unpacked == 0)
                                return log_error_errno(r < 0 ? r : EINVAL, "Invalid --max-unpacked=%s", optarg);
                        break;
                case ARG_RULES_PATH: arg_rules_path = optarg; break;
                case ARG_EXPLAIN: arg_explain = optarg; break;
                case ARG_PROMETHEUS: arg_prometheus = optarg; break;
                case ARG_RUN_DIR: arg_run_dir = optarg; break;
                case 'J': {
                        char *end;
                        unsigned long v;

                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || optarg[0] == '-' || v == 0 || v > JOBS_MAX)
                                return log_error_errno(EINVAL, "Invalid --jobs=%s (a number from 1 to %u)", optarg, JOBS_MAX);
                        arg_jobs = (unsigned) v;
                        break;
                }
                case '?': return -EINVAL;
                default: abort();
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument: %s (see --help)", argv[optind]);
        return 1;
}

static char *running_cmdline(void) {
        _cleanup_free_ char *s = NULL;

        if (read_full_file_at(AT_FDCWD, "/proc/cmdline", 1 << 16, &s, NULL) < 0)
                return NULL;
        s[strcspn(s, "\n")] = 0;
        return TAKE_PTR(s);
}

/* The root's tree is shared by the workers and its path walks keep count (SdcTree.steps): they take
 * turns with it. Everything else a worker touches is its entry's own, or read-only. */
static pthread_mutex_t root_tree_lock = PTHREAD_MUTEX_INITIALIZER;

static int copy_image_info(EntryResult *res, const SdcImage *img) {
        size_t n = sdc_image_n_segments(img);

        res->segments = n ? calloc(n, sizeof(SdcImageSegment)) : NULL;
        if (n && !res->segments)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                res->segments[i] = *sdc_image_segment(img, i);
        res->n_segments = n;
        res->image_size = sdc_image_file_size(img);
        res->have_image = true;
        return 0;
}

static void check_entry(EntryResult *res, const SdcTreeFacts *root, SdcTree *root_tree, const SdcRuleSet *rules) {
        _cleanup_(sdc_tree_freep) SdcTree *tree = NULL, *nested = NULL; /* nested: freed first */
        const SdcBootEntry *e = res->entry;
        const char *kernel = e->kernel;
        int r;

        r = sdc_tree_open_image(AT_FDCWD, e->image, &arg_limits, &tree, &res->error);
        if (r < 0) {
                if (res->error.message[0])
                        r = asprintf(&res->error_text, "%s: at byte %" PRIu64 ": %s", e->image, res->error.offset,
                                     res->error.message);
                else
                        r = asprintf(&res->error_text, "%s: %s", e->image, strerror(-r));
                if (r < 0)
                        res->error_text = NULL;
                res->assessment.verdict = SDC_VERDICT_BLOCKED;
                res->assessment.reason = res->error_text ? strdup(res->error_text) : NULL;
                return;
        }
        if (copy_image_info(res, sdc_tree_image(tree)) < 0) {
                res->assessment.verdict = SDC_VERDICT_BLOCKED;
                res->assessment.reason = strdup("out of memory");
                return;
        }
        r = sdc_probe_tree(tree, SDC_ROLE_INITRD, &res->facts);
        if (r < 0) {
                res->assessment.verdict = SDC_VERDICT_BLOCKED;
                if (asprintf(&res->assessment.reason, "%s: cannot probe: %s", e->image, strerror(-r)) < 0)
                        res->assessment.reason = NULL;
                return;
        }
        res->have_facts = true;
        /* The facts of an image whose root image was read are that root's, and so is its manifest
         * (`dracut --add sdcompat` puts it in there). The probe opened that file system already:
         * it cannot fail now, and if it does, the manifest says why. */
        if (res->facts.root_image_read) {
                _cleanup_free_ char *message = NULL;

                r = sdc_tree_open_filesystem(tree, res->facts.root_image, res->facts.root_image_type, &nested,
                                             &message);
                if (r < 0 && asprintf(&res->manifest_error, "%s: %s: %s", e->image, res->facts.root_image,
                                      strna(message)) < 0)
                        res->manifest_error = NULL;
        }
        r = res->facts.root_image_read && !nested ? -EIO : sdc_manifest_read(nested ?: tree, &res->manifest);
        if (r >= 0)
                res->have_manifest = true;
        else if (!res->manifest_error && r != -ENOENT &&
                 asprintf(&res->manifest_error, "%s%s%s: %s: %s", e->image, nested ? ":" : "",
                          nested ? res->facts.root_image : "", SDC_MANIFEST_PATH,
                          r == -EBADMSG ? "not a valid manifest" : strerror(-r)) < 0)
                res->manifest_error = NULL;
        /* The image is no longer needed: its facts and manifest are copies. */
        nested = sdc_tree_free(nested);
        tree = sdc_tree_free(tree);
        /* For a lone image the kernel is the one it carries modules for, if just one. */
        if (!kernel && strv_length(res->facts.kernel_versions) == 1)
                kernel = res->facts.kernel_versions[0];
        pthread_mutex_lock(&root_tree_lock);
        r = sdc_pair_facts_build(&res->facts, root, root_tree, res->cmdline, kernel, &res->pair);
        pthread_mutex_unlock(&root_tree_lock);
        if (r >= 0) {
                res->have_pair = true;
                r = sdc_assess(rules, &res->pair, res->have_manifest ? res->manifest.actions : NULL, &res->assessment);
        }
        if (r < 0) {
                res->assessment.verdict = SDC_VERDICT_BLOCKED;
                if (asprintf(&res->assessment.reason, "cannot evaluate the rules: %s", strerror(-r)) < 0)
                        res->assessment.reason = NULL;
        }
}

/* The entries are checked by up to arg_jobs threads, each taking the next unchecked entry; every
 * result goes into its own slot, and nothing is printed until all are done, so the output is the
 * same, byte for byte, whatever the number of jobs. */
typedef struct CheckPool {
        EntryResult *res;
        size_t n;
        size_t next; /* the next entry to take (atomic) */
        const SdcTreeFacts *root;
        SdcTree *root_tree;
        const SdcRuleSet *rules;
} CheckPool;

static void *check_worker(void *userdata) {
        CheckPool *p = userdata;

        for (;;) {
                size_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);

                if (i >= p->n)
                        return NULL;
                check_entry(&p->res[i], p->root, p->root_tree, p->rules);
        }
}

/* The CPUs this process may run on (its affinity, as taskset or a cgroup's cpuset leave it). */
static unsigned default_jobs(void) {
        cpu_set_t set;
        int n;

        if (sched_getaffinity(0, sizeof(set), &set) < 0)
                return 1;
        n = CPU_COUNT(&set);
        return n < 1 ? 1 : MIN((unsigned) n, JOBS_DEFAULT_MAX);
}

static void check_entries(EntryResult *res, size_t n, const SdcTreeFacts *root, SdcTree *root_tree,
                          const SdcRuleSet *rules) {
        CheckPool pool = { .res = res, .n = n, .root = root, .root_tree = root_tree, .rules = rules };
        size_t jobs = MIN((size_t) (arg_jobs ?: default_jobs()), n);
        pthread_t *threads = NULL;
        size_t started = 0;

        /* This thread is one of the workers; a thread that cannot be started leaves its share to the
         * others (the check gets slower, never different). */
        if (jobs > 1)
                threads = calloc(jobs - 1, sizeof(pthread_t));
        for (; threads && started < jobs - 1; started++)
                if (pthread_create(&threads[started], NULL, check_worker, &pool) != 0) {
                        log_debug("Could not start a worker thread; checking with %zu.", started + 1);
                        break;
                }
        (void) check_worker(&pool);
        for (size_t t = 0; t < started; t++)
                (void) pthread_join(threads[t], NULL);
        free(threads);
}

static const char *systemd_text(const SdcTreeFacts *f, bool initrd) {
        if (initrd && f->root_image && !f->root_image_read)
                return "unknown: inside the root file system image that /init mounts (not read)";
        if (initrd && !f->runs_systemd)
                return "no systemd in this initramfs";
        if (!f->systemd.found)
                return "no systemd found";
        return f->systemd.has_version ? f->systemd.version.text : "systemd (version unknown)";
}

static void print_segments(const EntryResult *res) {
        size_t n = res->n_segments;
        uint64_t unpacked = 0;

        printf("  image:          %" PRIu64 " bytes, %zu segment%s:", res->image_size, n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
                const SdcImageSegment *s = &res->segments[i];
                printf("%s %s", i ? "," : "", sdc_compression_to_string(s->compression));
                unpacked += s->unpacked;
        }
        printf(" (%.1f MiB unpacked)\n", (double) unpacked / (1 << 20));
}

static void print_facts_text(const char *label, const SdcTreeFacts *f, bool initrd) {
        const SdcSystemdFacts *s = &f->systemd;

        printf("  %-15s %s\n", label, systemd_text(f, initrd));
        if (s->found && (!initrd || f->runs_systemd)) {
                if (s->version_source)
                        printf("  %-15s from %s\n", "", s->version_source);
                if (s->default_hierarchy)
                        printf("  %-15s default-hierarchy=%s\n", "", s->default_hierarchy);
                if (initrd && s->compiled_binary_path)
                        printf("  %-15s execs %s after switch-root\n", "", s->compiled_binary_path);
        }
        STRV_FOREACH(n, f->notes)
                printf("  %-15s note: %s\n", "", *n);
}

/* The one line a person reads per host: "HOST: VERDICT: N boot entries (...); inhibitors ...". */
static char *summary_line(const SdcTreeFacts *root, const EntryResult *res, size_t n, SdcVerdict overall) {
        _cleanup_free_ char *counts = NULL, *inhibitors = NULL;
        char host[256] = "";
        size_t k[_SDC_VERDICT_MAX] = {}, n_inhibitors = 0, n_degrading = 0;
        char *s;

        if (streq(arg_root, "/")) {
                if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
                        snprintf(host, sizeof(host), "localhost");
        } else
                snprintf(host, sizeof(host), "root %s", arg_root);
        for (size_t i = 0; i < n; i++) {
                const SdcAssessment *a = &res[i].assessment;
                const bool *handled = res[i].have_manifest ? res[i].manifest.actions : NULL;

                k[a->verdict]++;
                for (size_t f = 0; f < a->n_findings; f++) {
                        const SdcFinding *fd = &a->findings[f];
                        char *t;

                        if (fd->match != SDC_MATCH_YES || sdc_finding_handled(fd, handled))
                                continue;
                        if (fd->rule->severity == SDC_SEVERITY_DEGRADED)
                                n_degrading++;
                        if (fd->rule->severity != SDC_SEVERITY_BOOT_FAILS)
                                continue;
                        n_inhibitors++;
                        if (asprintf(&t, "%s%s%s on %s", strempty(inhibitors), inhibitors ? ", " : "", fd->rule->id,
                                     res[i].entry->image) < 0)
                                return NULL;
                        free(inhibitors);
                        inhibitors = t;
                }
        }
        for (int v = 0; v < _SDC_VERDICT_MAX; v++) {
                char *t;

                if (!k[v])
                        continue;
                if (asprintf(&t, "%s%s%zu %s", strempty(counts), counts ? ", " : "", k[v],
                             sdc_verdict_to_string((SdcVerdict) v)) < 0)
                        return NULL;
                free(counts);
                counts = t;
        }
        if (asprintf(&s, "%s: %s: %zu boot entr%s%s%s%s; %zu would fail the boot%s%s%s, %zu degrade it; root systemd %s", host,
                     sdc_verdict_to_string(overall), n, n == 1 ? "y" : "ies", counts ? " (" : "", strempty(counts),
                     counts ? ")" : "", n_inhibitors, inhibitors ? " (" : "", strempty(inhibitors), inhibitors ? ")" : "",
                     n_degrading, systemd_text(root, false)) < 0)
                return NULL;
        return s;
}

static void print_text(const SdcTreeFacts *root, const EntryResult *res, size_t n, SdcVerdict overall) {
        printf("root %s: %s%s%s\n", arg_root, systemd_text(root, false), root->os_pretty_name ? ", " : "",
               root->os_pretty_name ?: "");
        STRV_FOREACH(note, root->notes)
                printf("  note: %s\n", *note);
        for (size_t i = 0; i < n; i++) {
                const SdcBootEntry *e = res[i].entry;

                printf("\n%s\n", e->image);
                if (e->kernel)
                        printf("  %-15s %s\n", "kernel:", e->kernel);
                printf("  %-15s %s\n", "command line:",
                       arg_cmdline ? "given with --cmdline" : e->cmdline_source ?: "/proc/cmdline (the running one)");
                if (res[i].have_image)
                        print_segments(&res[i]);
                if (res[i].have_facts) {
                        if (res[i].facts.built_by_dracut)
                                printf("  %-15s dracut %s\n", "built by:",
                                       res[i].facts.dracut_version ?: "(version not recorded in the image)");
                        print_facts_text("initrd systemd:", &res[i].facts, true);
                        if (res[i].have_manifest && res[i].manifest.injected_at)
                                printf("  %-15s %s, injected %s by sdcompat-inject\n", "sdcompat:",
                                       strna(res[i].manifest.sdcompat_version), res[i].manifest.injected_at);
                        else if (res[i].have_manifest)
                                printf("  %-15s %s, recorded %s\n", "sdcompat:", strna(res[i].manifest.sdcompat_version),
                                       strna(res[i].manifest.build_time));
                        else if (res[i].manifest_error)
                                printf("  %-15s %s\n", "sdcompat:", res[i].manifest_error);
                }
                if (res[i].have_pair && res[i].pair.initrd_systemd == SDC_TRI_YES)
                        printf("  %-15s %s (%s)\n", "initrd cgroup:", sdc_cgroup_mode_to_string(res[i].pair.initrd_cgroup),
                               res[i].pair.initrd_cgroup_reason);
                for (size_t k = 0; k < res[i].assessment.n_findings; k++) {
                        const SdcFinding *fd = &res[i].assessment.findings[k];
                        printf("  %-15s %s (%s%s%s): %s\n", k == 0 ? "hazards:" : "", fd->rule->id,
                               sdc_severity_to_string(fd->rule->severity),
                               fd->match == SDC_MATCH_UNKNOWN ? ", undecided: unknown " : "",
                               fd->match == SDC_MATCH_UNKNOWN ? fd->unknown_fact : "", fd->rule->title);
                }
                printf("  %-15s %s: %s\n", "verdict:", sdc_verdict_to_string(res[i].assessment.verdict),
                       strna(res[i].assessment.reason));
        }
        if (overall == SDC_VERDICT_AT_RISK)
                printf("\n'sdcompat-check --explain=ID' says what each hazard does and what to do about it.\n");
        /* Last, so that it is what a person (and `tail -n1`) sees first. */
        {
                _cleanup_free_ char *line = summary_line(root, res, n, overall);
                printf("\n%s\n", line ?: sdc_verdict_to_string(overall));
        }
}

static void print_json(const SdcTreeFacts *root, const SdcRuleSet *rules, EntryResult *res, size_t n,
                       SdcVerdict overall, int status) {
        JsonWriter w;

        json_init(&w, stdout, arg_json == JSON_PRETTY);
        json_object_begin(&w, NULL);
        json_uint(&w, "schema_version", 1);
        json_string(&w, "sdcompat_version", PACKAGE_VERSION);
        json_object_begin(&w, "root");
        json_string(&w, "path", arg_root);
        sdc_tree_facts_to_json(&w, "facts", root);
        json_object_end(&w);
        json_object_begin(&w, "rules");
        json_string(&w, "path", arg_rules_path);
        json_uint(&w, "loaded", rules ? rules->n_rules : 0);
        json_array_begin(&w, "errors");
        if (rules)
                STRV_FOREACH(e, rules->errors)
                        json_string(&w, NULL, *e);
        json_array_end(&w);
        json_array_begin(&w, "masked");
        if (rules)
                STRV_FOREACH(e, rules->masked)
                        json_string(&w, NULL, *e);
        json_array_end(&w);
        json_object_end(&w);
        json_array_begin(&w, "entries");
        for (size_t i = 0; i < n; i++) {
                const SdcBootEntry *e = res[i].entry;

                json_object_begin(&w, NULL);
                json_string(&w, "id", e->id);
                json_string(&w, "kernel", e->kernel);
                json_string(&w, "image", e->image);
                json_string(&w, "cmdline", res[i].cmdline);
                json_string(&w, "cmdline_source", arg_cmdline ? "option" : e->cmdline_source ?: "/proc/cmdline");
                if (res[i].have_image) {
                        json_object_begin(&w, "image_info");
                        json_uint(&w, "size", res[i].image_size);
                        json_array_begin(&w, "segments");
                        for (size_t k = 0; k < res[i].n_segments; k++) {
                                const SdcImageSegment *s = &res[i].segments[k];
                                json_object_begin(&w, NULL);
                                json_uint(&w, "offset", s->offset);
                                json_uint(&w, "length", s->length);
                                json_string(&w, "compression", sdc_compression_to_string(s->compression));
                                json_uint(&w, "unpacked", s->unpacked);
                                json_uint(&w, "entries", s->entries);
                                json_object_end(&w);
                        }
                        json_array_end(&w);
                        json_object_end(&w);
                } else
                        json_null(&w, "image_info");
                if (res[i].have_facts)
                        sdc_tree_facts_to_json(&w, "initrd", &res[i].facts);
                else
                        json_null(&w, "initrd");
                if (res[i].have_manifest) {
                        json_object_begin(&w, "sdcompat");
                        json_string(&w, "version", res[i].manifest.sdcompat_version);
                        json_string(&w, "recorded", res[i].manifest.build_time);
                        json_bool(&w, "injected", res[i].manifest.injected_at != NULL);
                        json_string(&w, "injected_at", res[i].manifest.injected_at);
                        sdc_actions_json(&w, "actions", res[i].manifest.actions);
                        json_object_end(&w);
                } else
                        json_null(&w, "sdcompat");
                if (res[i].have_pair) {
                        json_object_begin(&w, "cgroup");
                        json_string(&w, "initrd_mode", sdc_cgroup_mode_to_string(res[i].pair.initrd_cgroup));
                        json_string(&w, "reason", res[i].pair.initrd_cgroup_reason);
                        json_object_end(&w);
                } else
                        json_null(&w, "cgroup");
                sdc_findings_to_json_for_entry(&w, "hazards", &res[i].assessment, e->id,
                                               res[i].have_manifest ? res[i].manifest.actions : NULL);
                json_string(&w, "verdict", sdc_verdict_to_string(res[i].assessment.verdict));
                json_string(&w, "reason", res[i].assessment.reason);
                if (res[i].error_text) {
                        json_object_begin(&w, "error");
                        json_uint(&w, "offset", res[i].error.offset);
                        json_string(&w, "message", res[i].error_text);
                        json_object_end(&w);
                } else
                        json_null(&w, "error");
                json_object_end(&w);
        }
        json_array_end(&w);
        json_string(&w, "verdict", sdc_verdict_to_string(overall));
        json_int(&w, "exit_status", status);
        {
                _cleanup_free_ char *line = summary_line(root, res, n, overall);
                json_string(&w, "summary", line);
        }
        json_object_end(&w);
        json_finish(&w);
}

/* A label value in the exposition format: backslash, double quote and newline escaped. */
static void prom_label(FILE *f, const char *s) {
        fputc('"', f);
        for (; s && *s; s++) {
                if (*s == '\\' || *s == '"')
                        fputc('\\', f);
                if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
        fputc('"', f);
}

static void prom_family(FILE *f, const char *name, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* What sdcompat-shim recorded at this boot's switch-root (RUN_DIR/sdcompat/shim.json, on tmpfs:
 * always this boot's), so that a boot which needed the fail-safe chain shows up in monitoring. */
static void prom_boot(FILE *f) {
        SdcShimRecord rec;
        int r = sdc_shim_record_read(arg_run_dir, &rec, NULL);

        prom_family(f, "sdcompat_boot_shim_ran", "1 if sdcompat-shim ran at this boot's switch-root (it left a record).");
        /* A record this sdcompat cannot read (another version's, sdcompat.run(5)) is still a run. */
        fprintf(f, "sdcompat_boot_shim_ran %d\n", r >= 0 || r == -EPROTONOSUPPORT || r == -EBADMSG);
        if (r < 0)
                return;
        prom_family(f, "sdcompat_boot_shim_info", "The plan's mode the shim ran in and the last step it recorded (the exec that took over).");
        fputs("sdcompat_boot_shim_info{mode=", f);
        prom_label(f, rec.mode ?: "");
        fputs(",step=", f);
        prom_label(f, rec.last_step ?: "");
        fputs("} 1\n", f);
        prom_family(f, "sdcompat_boot_shim_failed_steps", "Steps of the shim's fail-safe chain that failed at this boot.");
        fprintf(f, "sdcompat_boot_shim_failed_steps %u\n", rec.n_failed);
        prom_family(f, "sdcompat_boot_shim_fallback",
                    "1 if this boot needed the shim's fallback: a step failed or another exec than the planned one took over.");
        fprintf(f, "sdcompat_boot_shim_fallback %d\n", rec.fallback);
        sdc_shim_record_done(&rec);
}

/* The exposition format for node_exporter's textfile collector (see METRICS in sdcompat-check(8)):
 * gauges only, no sample timestamps (node_exporter refuses them), base units (seconds). The
 * collector must never see a half-written file, hence the temporary file and the rename. */
static int write_prometheus(const EntryResult *res, size_t n, SdcVerdict overall, int status) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        int r;

        if (!f)
                return log_oom();
        prom_family(f, "sdcompat_info", "The version of sdcompat that wrote these metrics.");
        fprintf(f, "sdcompat_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
        prom_family(f, "sdcompat_check_verdict", "The host's verdict: 1 for the one that holds.");
        for (int v = 0; v < _SDC_VERDICT_MAX; v++)
                fprintf(f, "sdcompat_check_verdict{verdict=\"%s\"} %d\n", sdc_verdict_to_string((SdcVerdict) v),
                        v == (int) overall);
        prom_family(f, "sdcompat_check_exit_status", "What sdcompat-check exited with (0 safe, 1 at risk, 2 could not check).");
        fprintf(f, "sdcompat_check_exit_status %d\n", status);
        prom_family(f, "sdcompat_check_last_run_timestamp_seconds", "When the check ran, in seconds since the epoch.");
        fprintf(f, "sdcompat_check_last_run_timestamp_seconds %lld\n", (long long) time(NULL));
        prom_family(f, "sdcompat_check_entries", "Boot entries checked.");
        fprintf(f, "sdcompat_check_entries %zu\n", n);
        prom_family(f, "sdcompat_entry_verdict", "Each boot entry's verdict: 1 for the one that holds.");
        for (size_t i = 0; i < n; i++)
                for (int v = 0; v < _SDC_VERDICT_MAX; v++) {
                        fputs("sdcompat_entry_verdict{image=", f);
                        prom_label(f, res[i].entry->image);
                        fputs(",kernel=", f);
                        prom_label(f, res[i].entry->kernel ?: "");
                        fprintf(f, ",verdict=\"%s\"} %d\n", sdc_verdict_to_string((SdcVerdict) v),
                                v == (int) res[i].assessment.verdict);
                }
        prom_family(f, "sdcompat_entry_hazard",
                    "A hazard rule that applies (match=yes) or could not be decided (match=unknown); inhibitor=true fails the boot unless handled.");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < res[i].assessment.n_findings; k++) {
                        const SdcFinding *fd = &res[i].assessment.findings[k];
                        bool handled = sdc_finding_handled(fd, res[i].have_manifest ? res[i].manifest.actions : NULL);

                        fputs("sdcompat_entry_hazard{image=", f);
                        prom_label(f, res[i].entry->image);
                        fprintf(f, ",id=\"%s\",severity=\"%s\",match=\"%s\",inhibitor=\"%s\",handled=\"%s\"} 1\n",
                                fd->rule->id, sdc_severity_to_string(fd->rule->severity),
                                fd->match == SDC_MATCH_YES ? "yes" : "unknown",
                                fd->rule->severity == SDC_SEVERITY_BOOT_FAILS ? "true" : "false", handled ? "true" : "false");
                }
        prom_boot(f);
        if (fclose(f) != 0)
                return log_oom();
        r = write_file_atomic_at(AT_FDCWD, arg_prometheus, text, size, 0644);
        if (r < 0)
                return log_error_errno(r, "%s: cannot write the metrics: %m", arg_prometheus);
        return 0;
}

static int load_rules(SdcRuleSet **ret) {
        int r = sdc_rules_load(arg_rules_path, ret);

        if (r < 0)
                return log_error_errno(r, "Cannot load hazard rules: %m");
        STRV_FOREACH(e, (*ret)->errors)
                log_warning("Rule not loaded: %s", *e);
        if ((*ret)->n_rules == 0)
                log_warning("No hazard rules found in %s: entries whose initramfs runs systemd cannot be judged.",
                            arg_rules_path);
        return 0;
}

static int explain(void) {
        _cleanup_(sdc_rules_freep) SdcRuleSet *rules = NULL;
        const SdcRule *r;

        if (load_rules(&rules) < 0)
                return EXIT_BLOCKED;
        r = sdc_rules_find(rules, arg_explain);
        if (!r) {
                log_error("No rule with Id=%s in %s.", arg_explain, arg_rules_path);
                return EXIT_BLOCKED;
        }
        printf("%s%s%s%s: %s\n\n", r->id, r->hazard ? " (hazard " : "", r->hazard ?: "", r->hazard ? ")" : "", r->title);
        printf("Severity:             %s\n", sdc_severity_to_string(r->severity));
        printf("sdcompat at boot:     %s%s\n", sdc_action_to_string(r->action),
               r->apply_when_unknown ? " (also when undecided: harmless where the hazard does not apply)"
                                     : "");
        printf("Applies when all of:\n");
        sdc_rule_print_conditions(r, stdout, "    ");
        if (r->description)
                printf("\nWhat happens:\n%s\n", r->description);
        printf("\nWithout sdcompat:\n%s\n", r->remedy);
        if (r->references) {
                printf("\nReferences:\n");
                STRV_FOREACH(ref, r->references)
                        printf("    %s\n", *ref);
        }
        printf("\nRule file: %s\n", r->path);
        return EXIT_SAFE;
}

/* The boot entries run() checks: found on the host, or the one --image names. */
typedef struct Entries {
        SdcBootEntry *v;
        size_t n;
        bool owned; /* found: freed with the list; --image: nothing to free */
} Entries;

static void entries_done(Entries *e) {
        if (e->owned)
                sdc_boot_entries_free(e->v, e->n);
        *e = (Entries) {};
}

typedef struct Results {
        EntryResult *v;
        size_t n;
} Results;

static void results_done(Results *r) {
        for (size_t i = 0; i < r->n; i++) {
                free(r->v[i].cmdline);
                free(r->v[i].error_text);
                sdc_assessment_done(&r->v[i].assessment);
                sdc_pair_facts_done(&r->v[i].pair);
                sdc_manifest_done(&r->v[i].manifest);
                free(r->v[i].manifest_error);
                sdc_tree_facts_done(&r->v[i].facts);
                free(r->v[i].segments);
        }
        free(r->v);
        *r = (Results) {};
}

static int run(void) {
        _cleanup_(sdc_rules_freep) SdcRuleSet *rules = NULL;
        _cleanup_(sdc_tree_freep) SdcTree *root_tree = NULL;
        _cleanup_free_ char *proc_cmdline = NULL;
        _cleanup_(sdc_tree_facts_done) SdcTreeFacts root = {};
        _cleanup_(entries_done) Entries entries = {};
        _cleanup_(results_done) Results res = {};
        SdcBootEntry single = {};
        SdcVerdict overall = SDC_VERDICT_SAFE;
        int n, r, status;

        if (load_rules(&rules) < 0)
                return EXIT_BLOCKED;
        r = sdc_tree_open_dir(AT_FDCWD, arg_root, 0, &root_tree);
        if (r < 0) {
                log_error_errno(r, "%s: cannot open root directory: %m", arg_root);
                return EXIT_BLOCKED;
        }
        r = sdc_probe_tree(root_tree, SDC_ROLE_ROOT, &root);
        if (r < 0) {
                log_error_errno(r, "%s: cannot probe the root: %m", arg_root);
                return EXIT_BLOCKED;
        }

        if (arg_image) {
                single = (SdcBootEntry) { .id = (char *) arg_image, .image = (char *) arg_image };
                entries = (Entries) { .v = &single, .n = 1 };
        } else {
                n = sdc_boot_entries_find(arg_boot_dir, &entries.v);
                if (n == -ENOENT || n == 0) {
                        if (arg_prometheus && write_prometheus(NULL, 0, SDC_VERDICT_SAFE, EXIT_SAFE) < 0)
                                return EXIT_BLOCKED;
                        if (arg_json)
                                print_json(&root, rules, NULL, 0, SDC_VERDICT_SAFE, EXIT_SAFE);
                        else {
                                _cleanup_free_ char *line = summary_line(&root, NULL, 0, SDC_VERDICT_SAFE);
                                printf("No initramfs images found in %s: nothing crosses switch-root on this host.\n%s\n",
                                       arg_boot_dir, strempty(line));
                        }
                        return EXIT_SAFE;
                }
                if (n < 0) {
                        log_error_errno(n, "%s: cannot look for boot entries: %m", arg_boot_dir);
                        return EXIT_BLOCKED;
                }
                entries.n = (size_t) n, entries.owned = true;
        }

        if (!arg_cmdline)
                proc_cmdline = running_cmdline();
        res.v = calloc(entries.n, sizeof(EntryResult));
        if (!res.v) {
                log_oom();
                return EXIT_BLOCKED;
        }
        res.n = entries.n;
        for (size_t i = 0; i < res.n; i++) {
                res.v[i].entry = &entries.v[i];
                res.v[i].cmdline = strdup(arg_cmdline ?: entries.v[i].cmdline ?: proc_cmdline ?: "");
        }
        check_entries(res.v, res.n, &root, root_tree, rules);
        for (size_t i = 0; i < res.n; i++) {
                overall = i == 0 ? res.v[i].assessment.verdict : sdc_verdict_worst(overall, res.v[i].assessment.verdict);
                if (res.v[i].error_text && !arg_json)
                        log_error("%s", res.v[i].error_text);
        }
        status = overall == SDC_VERDICT_AT_RISK ? EXIT_AT_RISK : overall == SDC_VERDICT_BLOCKED ? EXIT_BLOCKED : EXIT_SAFE;

        if (arg_json)
                print_json(&root, rules, res.v, res.n, overall, status);
        else
                print_text(&root, res.v, res.n, overall);
        if (arg_prometheus && write_prometheus(res.v, res.n, overall, status) < 0 && status == EXIT_SAFE)
                status = EXIT_BLOCKED; /* the operator asked for metrics and has none */
        return status;
}

int main(int argc, char *argv[]) {
        int r;

        log_set_prefix(program_invocation_short_name);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_BLOCKED : EXIT_SAFE;
        return arg_explain ? explain() : run();
}
