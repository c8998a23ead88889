/*
 * Tests for cli/cli.c, the option table: every choice of every choice option
 * parses to its enum value and any other word is refused with a message that
 * names the option and its choices; numbers outside their bounds are refused
 * with a message; the defaults `--help` prints are the defaults the parsed
 * configuration holds, for every command; every option of the table is in the
 * help of each command that takes it and in the man page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "data/bootstrap.h"

/*
 * Parses "snprobe WORDS..." (a NULL-ended list) into cfg; returns the status. Not inlined:
 * inlined into callers with short literal lists, GCC -O3 with the sanitizers warns
 * (-Warray-bounds) about reads that the NULL stop never makes.
 */
__attribute__((noinline)) static sn_status_t parse_words(sn_config_t *cfg, sn_error_t *err,
                                                         const char *const *words)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = "snprobe";
    for (size_t i = 0; words[i] != NULL && argc < 15; i++)
        argv[argc++] = (char *)words[i];
    argv[argc] = NULL;
    err->msg[0] = '\0';
    return sn_cli_parse(argc, argv, cfg, err);
}

/* The name of the first command that takes o ("scan" for an option of every command). */
static const char *command_of(const sn_opt_t *o)
{
    size_t n;
    const sn_cmd_desc_t *cmds = sn_cli_commands(&n);
    for (size_t i = 0; i < n; i++)
        if (o->commands == 0 || (o->commands & cmds[i].bit))
            return cmds[i].name;
    return NULL;
}

/* What fn prints, in a heap buffer (the whole man page fits in 128 KiB). */
static char *capture(void (*fn)(FILE *, unsigned), unsigned command, size_t *len)
{
    size_t cap = 128 * 1024;
    char *text = calloc(1, cap);
    assert_non_null(text);
    FILE *f = fmemopen(text, cap - 1, "w");
    assert_non_null(f);
    fn(f, command);
    *len = (size_t)ftell(f);
    fclose(f);
    assert_true(*len < cap - 2); /* not cut short */
    return text;
}

static void man_as_help(FILE *f, unsigned command)
{
    (void)command;
    sn_cli_man(f);
}

static void test_cli_every_choice_parses_to_its_enum_value(void **state)
{
    (void)state;
    size_t n, checked = 0;
    const sn_opt_t *opts = sn_cli_options(&n);
    for (size_t i = 0; i < n; i++) {
        const sn_opt_t *o = &opts[i];
        if (o->type != SN_OPT_CHOICE)
            continue;
        for (const sn_opt_choice_t *c = o->choices; c->name != NULL; c++) {
            char flag[64];
            snprintf(flag, sizeof flag, "--%s", o->name);
            const char *words[] = {command_of(o), flag, c->name, NULL};
            sn_config_t cfg;
            sn_error_t err;
            assert_int_equal(parse_words(&cfg, &err, words), SN_OK);
            assert_int_equal(*(const int *)((const char *)&cfg + o->offset), c->value);
            sn_cli_free(&cfg);
            checked++;
        }
    }
    assert_true(checked >= 14); /* five choice options: 2 + 4 + 2 + 3 + 3 choices */

    /* And the values are the rooms' own enums, not the table's positions. */
    static const struct {
        const char *words[4];
        size_t offset;
        int want;
    } cases[] = {
        {{"scan", "--output-format", "ndjson"},
         offsetof(sn_config_t, output_format),
         SN_OUTPUT_NDJSON},
        {{"scan", "--input-format", "csv"}, offsetof(sn_config_t, input_format), SN_INPUT_CSV},
        {{"annotate", "--rdns", "alive"}, offsetof(sn_config_t, rdns), SN_RDNS_ALIVE},
        {{"export", "--format", "ipset"}, offsetof(sn_config_t, export_format), SN_EXPORT_IPSET},
        {{"bootstrap", "--set", "1.4"}, offsetof(sn_config_t, boot_set), SN_BOOT_14},
        {{"bootstrap", "--set", "all"}, offsetof(sn_config_t, boot_set), SN_BOOT_ALL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_config_t cfg;
        sn_error_t err;
        assert_int_equal(parse_words(&cfg, &err, cases[i].words), SN_OK);
        assert_int_equal(*(const int *)((const char *)&cfg + cases[i].offset), cases[i].want);
        sn_cli_free(&cfg);
    }
}

static void test_cli_other_words_are_refused_naming_option_and_choices(void **state)
{
    (void)state;
    size_t n;
    const sn_opt_t *opts = sn_cli_options(&n);
    static const char *const bad[] = {"bogus", "", "CSV", "all ", "nft,ipset"};
    for (size_t i = 0; i < n; i++) {
        const sn_opt_t *o = &opts[i];
        if (o->type != SN_OPT_CHOICE)
            continue;
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            char flag[64], named[80];
            snprintf(flag, sizeof flag, "--%s", o->name);
            snprintf(named, sizeof named, "--%s: '%s' is not ", o->name, bad[b]);
            const char *words[] = {command_of(o), flag, bad[b], NULL};
            sn_config_t cfg;
            sn_error_t err;
            assert_int_equal(parse_words(&cfg, &err, words), SN_EINVAL);
            assert_non_null(strstr(err.msg, named));
            for (const sn_opt_choice_t *c = o->choices; c->name != NULL; c++)
                assert_non_null(strstr(err.msg + strlen(named), c->name));
            sn_cli_free(&cfg);
        }
    }
    /* The messages users and scripts have seen, word for word. */
    static const struct {
        const char *words[4];
        const char *msg;
    } cases[] = {
        {{"scan", "--output-format", "xml"}, "--output-format: 'xml' is not csv or ndjson"},
        {{"scan", "--input-format", "json"},
         "--input-format: 'json' is not auto, xml, plain or csv"},
        {{"scan", "--rdns", "none"}, "--rdns: 'none' is not alive or all"},
        {{"export", "--format", "iptables"}, "--format: 'iptables' is not nft, ipset or plain"},
        {{"bootstrap", "--set", "1.3"}, "--set: '1.3' is not 2004, 1.4 or all"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_config_t cfg;
        sn_error_t err;
        assert_int_equal(parse_words(&cfg, &err, cases[i].words), SN_EINVAL);
        assert_string_equal(err.msg, cases[i].msg);
        sn_cli_free(&cfg);
    }
}

static void test_cli_numbers_outside_their_bounds_are_refused(void **state)
{
    (void)state;
    size_t n, checked = 0;
    const sn_opt_t *opts = sn_cli_options(&n);
    for (size_t i = 0; i < n; i++) {
        const sn_opt_t *o = &opts[i];
        if (o->type != SN_OPT_NUMBER)
            continue;
        char flag[64], above[64], below[64];
        snprintf(flag, sizeof flag, "--%s", o->name);
        snprintf(above, sizeof above, "%.0f", o->max * 2 + 2);
        snprintf(below, sizeof below, "%.3f", o->min / 2);
        const char *tries[] = {above, o->min > 0 ? below : NULL};
        for (size_t t = 0; t < 2 && tries[t] != NULL; t++) {
            const char *words[] = {command_of(o), flag, tries[t], NULL};
            sn_config_t cfg;
            sn_error_t err;
            assert_int_equal(parse_words(&cfg, &err, words), SN_EINVAL);
            char want[128];
            snprintf(want, sizeof want, "--%s: %s is out of range ", o->name, tries[t]);
            assert_non_null(strstr(err.msg, want));
            sn_cli_free(&cfg);
            checked++;
        }
        /* Signs, hex and exponents are not decimal numbers (strtod would take them). */
        static const char *const junk[] = {"-1", "0x10", "1e3", " 1", "", "inf", "nan"};
        for (size_t j = 0; j < sizeof junk / sizeof junk[0]; j++) {
            const char *words[] = {command_of(o), flag, junk[j], NULL};
            sn_config_t cfg;
            sn_error_t err;
            assert_int_equal(parse_words(&cfg, &err, words), SN_EINVAL);
            char want[128];
            snprintf(want, sizeof want, "--%s: '%s' is not a decimal number", o->name, junk[j]);
            assert_string_equal(err.msg, want);
            sn_cli_free(&cfg);
        }
    }
    assert_true(checked >= 15);
    sn_config_t cfg;
    sn_error_t err;
    const char *timeout0[] = {"scan", "--timeout", "0", "x", NULL};
    assert_int_equal(parse_words(&cfg, &err, timeout0), SN_EINVAL);
    assert_string_equal(err.msg, "--timeout: 0 is out of range 1..600000");
    sn_cli_free(&cfg);
    const char *edge[] = {"scan", "--retries", "20", "--timeout", "600000", "x", NULL};
    assert_int_equal(parse_words(&cfg, &err, edge), SN_OK); /* the bounds themselves pass */
    assert_true(cfg.retries == 20 && cfg.timeout == 600000);
    sn_cli_free(&cfg);
}

/* The line of --help that describes o ("  -o, --output FILE ..." or "      --rate N ..."),
   or NULL: usage lines and other options' prose that mention it do not count. */
static const char *option_line(const char *help, const sn_opt_t *o)
{
    char key[96];
    if (o->short_name)
        snprintf(key, sizeof key, "\n  -%c, --%s", o->short_name, o->name);
    else
        snprintf(key, sizeof key, "\n      --%s", o->name);
    for (const char *p = strstr(help, key); p != NULL; p = strstr(p + 1, key)) {
        char next = p[strlen(key)];
        if (next == ' ' || next == '\n')
            return p + 1;
    }
    return NULL;
}

/* The "[default: X]" the help line of o shows, or NULL. */
static const char *help_default(const char *help, const sn_opt_t *o, char *buf, size_t cap)
{
    const char *line = option_line(help, o);
    assert_non_null(line);
    const char *eol = strchr(line, '\n');
    const char *d = strstr(line, "[default: ");
    if (d == NULL || d > eol)
        return NULL;
    d += strlen("[default: ");
    const char *end = strchr(d, ']');
    assert_true(end != NULL && end < eol);
    snprintf(buf, cap, "%.*s", (int)(end - d), d);
    return buf;
}

static void test_cli_help_defaults_are_the_config_defaults(void **state)
{
    (void)state;
    size_t n, nc, checked = 0;
    const sn_opt_t *opts = sn_cli_options(&n);
    const sn_cmd_desc_t *cmds = sn_cli_commands(&nc);
    for (size_t c = 0; c < nc; c++) {
        size_t len;
        char *help = capture(sn_cli_help, cmds[c].bit, &len);
        const char *words[] = {cmds[c].name, NULL};
        sn_config_t cfg;
        sn_error_t err;
        assert_int_equal(parse_words(&cfg, &err, words), SN_OK);
        for (size_t i = 0; i < n; i++) {
            const sn_opt_t *o = &opts[i];
            if (o->commands != 0 && !(o->commands & cmds[c].bit))
                continue;
            char buf[128];
            const char *def = help_default(help, o, buf, sizeof buf);
            const char *field = (const char *)&cfg + o->offset;
            if (def == NULL)
                continue;
            if (o->cmd_defaults != NULL) {
                /* "alive for scan, all for annotate": every per-command default is named,
                   and this command's is the one its configuration holds */
                for (const sn_opt_cmd_default_t *cd = o->cmd_defaults; cd->commands; cd++)
                    assert_non_null(strstr(def, cd->value));
                def = sn_cli_default(o, cmds[c].bit);
                assert_non_null(def);
            }
            if (o->type == SN_OPT_NUMBER) {
                assert_true(*(const double *)field == strtod(def, NULL));
            } else if (o->type == SN_OPT_STRING) {
                assert_string_equal(*(const char *const *)field, def);
            } else if (o->type == SN_OPT_CHOICE) {
                const sn_opt_choice_t *ch = o->choices;
                while (ch->name != NULL && strcmp(ch->name, def) != 0)
                    ch++;
                assert_non_null(ch->name); /* the default is one of the choices */
                assert_int_equal(*(const int *)field, ch->value);
            }
            checked++;
        }
        free(help);
        sn_cli_free(&cfg);
    }
    assert_true(checked > 40);

    /* --rdns has a default per command; its help says both, and the config holds them. */
    sn_config_t cfg;
    sn_error_t err;
    const char *scan[] = {"scan", NULL}, *annotate[] = {"annotate", NULL};
    assert_int_equal(parse_words(&cfg, &err, scan), SN_OK);
    assert_int_equal(cfg.rdns, SN_RDNS_ALIVE);
    sn_cli_free(&cfg);
    assert_int_equal(parse_words(&cfg, &err, annotate), SN_OK);
    assert_int_equal(cfg.rdns, SN_RDNS_ALL);
    sn_cli_free(&cfg);
    size_t len;
    char *help = capture(sn_cli_help, SN_CMD_SCAN, &len);
    assert_non_null(strstr(help, "[default: alive for scan, all for annotate]"));
    free(help);
}

static void test_cli_every_option_is_in_help_and_man_page(void **state)
{
    (void)state;
    size_t n, nc, len;
    const sn_opt_t *opts = sn_cli_options(&n);
    const sn_cmd_desc_t *cmds = sn_cli_commands(&nc);
    char *man = capture(man_as_help, 0, &len);
    char *top = capture(sn_cli_help, 0, &len);
    assert_non_null(strstr(man, ".TH SNPROBE 1"));
    for (size_t i = 0; i < n; i++) {
        const sn_opt_t *o = &opts[i];
        /* the man page writes hyphens as \- */
        char roffname[96] = "\\fB\\-\\-", *p = roffname + strlen(roffname);
        for (const char *s = o->name; *s && p < roffname + sizeof roffname - 3; s++) {
            if (*s == '-')
                *p++ = '\\';
            *p++ = *s;
        }
        *p = '\0';
        assert_non_null(strstr(man, roffname));
        if (o->commands == 0)
            assert_non_null(option_line(top, o));
        for (size_t c = 0; c < nc; c++) {
            char *help = capture(sn_cli_help, cmds[c].bit, &len);
            bool takes = o->commands == 0 || (o->commands & cmds[c].bit);
            bool shown = option_line(help, o) != NULL;
            assert_true(takes == shown);
            free(help);
        }
    }
    /* Every command has its section in the man page. */
    for (size_t c = 0; c < nc; c++) {
        char sec[64];
        snprintf(sec, sizeof sec, ".SS \"snprobe %s ", cmds[c].name);
        assert_non_null(strstr(man, sec));
    }
    free(man);
    free(top);
}

static void test_cli_options_refused_by_commands_that_do_not_take_them(void **state)
{
    (void)state;
    sn_config_t cfg;
    sn_error_t err;
    const char *w1[] = {"scan", "--format", "nft", "x", NULL};
    assert_int_equal(parse_words(&cfg, &err, w1), SN_EINVAL);
    assert_string_equal(err.msg, "option --format does not apply to 'scan'");
    sn_cli_free(&cfg);
    const char *w2[] = {"--rate", "5", NULL};
    assert_int_equal(parse_words(&cfg, &err, w2), SN_EINVAL);
    assert_string_equal(err.msg, "option --rate does not apply to '(no command)'");
    sn_cli_free(&cfg);
    const char *w3[] = {"scanx", NULL};
    assert_int_equal(parse_words(&cfg, &err, w3), SN_EINVAL);
    assert_string_equal(err.msg, "unknown command 'scanx' (see snprobe --help)");
    sn_cli_free(&cfg);
}

static void test_cli_command_text_is_the_line_as_typed(void **state)
{
    (void)state;
    sn_config_t cfg;
    sn_error_t err;
    const char *w[] = {"scan", "-r", "10", "--no-rdns", "in.txt", NULL};
    assert_int_equal(parse_words(&cfg, &err, w), SN_OK);
    assert_string_equal(cfg.command_text, "snprobe scan -r 10 --no-rdns in.txt");
    assert_true(cfg.rate == 10 && cfg.no_rdns);
    assert_int_equal(cfg.n_inputs, 1);
    assert_string_equal(cfg.inputs[0], "in.txt");
    sn_cli_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_every_choice_parses_to_its_enum_value),
        cmocka_unit_test(test_cli_other_words_are_refused_naming_option_and_choices),
        cmocka_unit_test(test_cli_numbers_outside_their_bounds_are_refused),
        cmocka_unit_test(test_cli_help_defaults_are_the_config_defaults),
        cmocka_unit_test(test_cli_every_option_is_in_help_and_man_page),
        cmocka_unit_test(test_cli_options_refused_by_commands_that_do_not_take_them),
        cmocka_unit_test(test_cli_command_text_is_the_line_as_typed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
