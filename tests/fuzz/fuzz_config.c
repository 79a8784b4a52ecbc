/* fuzz_config.c — the config-file line parser (hc_config_parse_text) and
 * the dump of whatever it accepted, over arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fcfg {
	int64_t port;
	char *name;
	int flag;
	int64_t wait_ms;
	int64_t mem;
	char *unset;
};

static const struct hc_opt opts[] = {
    {"port", HC_OPT_INT, "3233", 'p', "HEARTH_FUZZ_PORT", offsetof(struct fcfg, port), 1, 65535,
     "port"},
    {"name", HC_OPT_STR, "x", 0, NULL, offsetof(struct fcfg, name), 0, 0, "name"},
    {"flag", HC_OPT_BOOL, "no", 0, NULL, offsetof(struct fcfg, flag), 0, 0, "flag"},
    {"wait", HC_OPT_DURATION, "1s", 0, NULL, offsetof(struct fcfg, wait_ms), 0, 0, "wait"},
    {"mem", HC_OPT_SIZE, "1m", 0, NULL, offsetof(struct fcfg, mem), 1, (int64_t)1 << 40, "mem"},
    {"unset", HC_OPT_STR, NULL, 0, NULL, offsetof(struct fcfg, unset), 0, 0, "unset"},
};

static const struct hc_config_spec spec = {"fuzz", NULL, opts, sizeof(opts) / sizeof(opts[0]),
					   (const char *const[]){"name", NULL}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fcfg c;
	struct hc_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (hc_config_defaults(&spec, &c, &err) < 0)
		abort();
	if (hc_config_parse_text(&spec, (const char *)data, size, "fuzz", &c, &err) == 0) {
		struct fcfg back;

		/* What was accepted dumps to text that parses back the same. */
		f = open_memstream(&text, &len);
		if (f) {
			hc_config_dump(&spec, &c, f);
			fclose(f);
			if (hc_config_defaults(&spec, &back, &err) < 0 ||
			    hc_config_parse_text(&spec, text, len, "dump", &back, &err) < 0 ||
			    back.port != c.port || back.wait_ms != c.wait_ms || back.mem != c.mem)
				abort();
			hc_config_free(&spec, &back);
			free(text);
		}
	}
	hc_config_free(&spec, &c);
	return 0;
}
