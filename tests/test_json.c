/*
 * Tests for lib/json.c, the one JSON writer and reader. What a user would
 * check: every byte 0..255 and every kind of invalid UTF-8 goes through the
 * writer into valid JSON that the reader reads back (as itself, or as U+FFFD
 * where the bytes were not UTF-8; NUL is refused, strings being C strings);
 * the reader refuses every malformed token and says where; numbers follow RFC
 * 8259 to the letter; the two writers agree; output is bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

#define FFFD "\xEF\xBF\xBD"

/* Writes n bytes with sn_json_quote into a fresh buffer; *len gets the length. */
static char *quote(const char *s, size_t n, size_t *len)
{
    size_t cap = SN_JSON_QUOTED_MAX(n);
    char *out = malloc(cap);
    assert_non_null(out);
    *len = sn_json_quote(out, cap, s, n);
    assert_true(*len >= 2);
    return out;
}

/* Reads text (len bytes) as one string to the end; returns the decoded bytes. */
static char *read_back(const char *text, size_t len, size_t *n)
{
    char *out = malloc(len + 1);
    assert_non_null(out);
    sn_json_t j = sn_json_reader(text, len);
    if (!sn_json_string(&j, out, len + 1, n))
        fail_msg("refused (%s at %zu): %.*s", sn_json_strerror(j.err), j.err_pos, (int)len, text);
    assert_true(sn_json_end(&j));
    return out;
}

/* ---- writer -------------------------------------------------------------------------------- */

static const struct {
    const char *in;
    size_t n;
    const char *out;
} quote_cases[] = {
    {"", 0, "\"\""},
    {"plain", 5, "\"plain\""},
    {"q\"b\\s/", 6, "\"q\\\"b\\\\s/\""},
    {"\n\r\t\x01\x1f\x7f", 6, "\"\\u000a\\u000d\\u0009\\u0001\\u001f\x7f\""},
    {"a\0b", 3, "\"a\\u0000b\""}, /* a NUL inside the n bytes is written, not an end */
    {"caf\xc3\xa9 \xf0\x9f\x98\x80", 10, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""},
    {"bad\xff", 4, "\"bad\\ufffd\""},
    {"overlong\xc0\xaf", 10, "\"overlong\\ufffd\\ufffd\""},
    {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""},            /* an encoded surrogate */
    {"\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* above U+10FFFF */
    {"cut\xe2\x82", 5, "\"cut\\ufffd\\ufffd\""},
};

static void test_json_quote_escapes_as_the_ndjson_sink_does(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof quote_cases / sizeof quote_cases[0]; i++) {
        size_t len;
        char *out = quote(quote_cases[i].in, quote_cases[i].n, &len);
        if (len != strlen(quote_cases[i].out) || memcmp(out, quote_cases[i].out, len) != 0)
            fail_msg("case %zu: got %.*s, expected %s", i, (int)len, out, quote_cases[i].out);
        free(out);
    }
}

static void test_json_quote_writes_nothing_without_room(void **state)
{
    (void)state;
    char out[16];
    memset(out, 'x', sizeof out);
    /* "ab" needs SN_JSON_QUOTED_MAX(2) = 14 bytes of room, whatever it turns into. */
    assert_int_equal(sn_json_quote(out, 13, "ab", 2), 0);
    assert_int_equal(out[0], 'x');
    assert_int_equal(sn_json_quote(out, 14, "ab", 2), 4);
    assert_memory_equal(out, "\"ab\"", 4);
    assert_int_equal(sn_json_quote(NULL, 14, "ab", 2), 0);
}

static void test_json_write_string_agrees_with_quote(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof quote_cases / sizeof quote_cases[0]; i++) {
        if (memchr(quote_cases[i].in, '\0', quote_cases[i].n) != NULL)
            continue; /* the FILE writer takes C strings */
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        sn_json_write_string(f, quote_cases[i].in);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(text, quote_cases[i].out);
        free(text);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    sn_json_write_string(f, NULL);
    sn_json_write_string(NULL, "ignored"); /* must not crash */
    assert_int_equal(fclose(f), 0);
    assert_string_equal(text, "null");
    free(text);
}

/* ---- round trips --------------------------------------------------------------------------- */

static void test_json_every_byte_alone_round_trips(void **state)
{
    (void)state;
    for (int b = 0; b < 256; b++) {
        char in = (char)b;
        size_t len, n;
        char *text = quote(&in, 1, &len);
        if (b == 0) {
            /* Written as \u0000, which the reader refuses: it gives C strings. */
            assert_int_equal(len, 8);
            sn_json_t j = sn_json_reader(text, len);
            char out[8];
            assert_false(sn_json_string(&j, out, sizeof out, NULL));
            assert_int_equal(j.err, SN_JSON_ENUL);
            assert_int_equal(j.err_pos, 1);
            free(text);
            continue;
        }
        char *out = read_back(text, len, &n);
        if (b < 0x80) {
            assert_int_equal(n, 1);
            assert_int_equal((unsigned char)out[0], b);
        } else { /* a lone byte above 0x7F is never UTF-8 */
            assert_int_equal(n, 3);
            assert_memory_equal(out, FFFD, 3);
        }
        free(out);
        free(text);
    }
}

static void test_json_all_bytes_in_one_string_round_trip(void **state)
{
    (void)state;
    char in[255], want[127 + 3 * 128];
    for (int b = 1; b < 256; b++)
        in[b - 1] = (char)b;
    for (int b = 1; b < 128; b++)
        want[b - 1] = (char)b;
    /* In rising order no byte above 0x7F is followed by a continuation byte it could take. */
    for (int k = 0; k < 128; k++)
        memcpy(want + 127 + 3 * k, FFFD, 3);
    size_t len, n;
    char *text = quote(in, sizeof in, &len);
    char *out = read_back(text, len, &n);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    free(out);
    free(text);
}

static const struct {
    const char *in, *back; /* back: what the reader gives for the writer's text */
} utf8_cases[] = {
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
    {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"}, /* U+10FFFF, the last code point */
    {"bad\xff", "bad" FFFD},
    {"lone\x80x", "lone" FFFD "x"},
    {"overlong\xc0\xaf", "overlong" FFFD FFFD},
    {"\xe0\x80\xaf", FFFD FFFD FFFD}, /* overlong three-byte form */
    {"surrogate\xed\xa0\x80", "surrogate" FFFD FFFD FFFD},
    {"too-big\xf4\x90\x80\x80", "too-big" FFFD FFFD FFFD FFFD},
    {"cut\xe2\x82", "cut" FFFD FFFD},
    {"\xe2\x82\x41", FFFD FFFD "A"},
    {"\xf0\x9f\x98", FFFD FFFD FFFD},
    {"\xf5\xf8\xfe", FFFD FFFD FFFD},
};

static void test_json_invalid_utf8_reads_back_as_replacement_characters(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
        size_t len, n;
        char *text = quote(utf8_cases[i].in, strlen(utf8_cases[i].in), &len);
        char *out = read_back(text, len, &n);
        if (n != strlen(utf8_cases[i].back) || memcmp(out, utf8_cases[i].back, n) != 0)
            fail_msg("case %zu: read back %.*s", i, (int)n, out);
        assert_int_equal(out[n], '\0');
        free(out);
        free(text);
    }
}

static void test_json_string_decodes_every_escape(void **state)
{
    (void)state;
    static const char text[] = "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"";
    size_t n;
    char *out = read_back(text, sizeof text - 1, &n);
    static const char want[] = "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(out, want, n);
    free(out);
}

/* ---- malformed input ----------------------------------------------------------------------- */

typedef enum { STR, NUM, LIT_TRUE, LIT_NULL } tok_t;

#define T(s) s, sizeof s - 1 /* a text and its length, NUL bytes included */

static const struct {
    const char *name;
    const char *text;
    size_t len;
    tok_t tok;
    sn_json_err_t err;
    size_t pos; /* where the reader says the fault is */
} bad_cases[] = {
    {"unterminated string", T("\"abc"), STR, SN_JSON_EUNTERMINATED, 4},
    {"string ends inside an escape", T("\"ab\\"), STR, SN_JSON_EUNTERMINATED, 4},
    {"empty text", T(""), STR, SN_JSON_ENOSTRING, 0},
    {"single quotes", T("'a'"), STR, SN_JSON_ENOSTRING, 0},
    {"unknown escape", T("\"a\\x\""), STR, SN_JSON_EESCAPE, 2},
    {"upper-case U escape", T("\"\\U0041\""), STR, SN_JSON_EESCAPE, 1},
    {"escaped NUL byte", T("\"\\\0\""), STR, SN_JSON_EESCAPE, 1},
    {"short \\u escape", T("\"\\u12\""), STR, SN_JSON_EHEX, 1},
    {"\\u escape with a non-hex digit", T("\"ab\\u12g4\""), STR, SN_JSON_EHEX, 3},
    {"\\u escape cut by the end", T("\"\\u00"), STR, SN_JSON_EHEX, 1},
    {"lone high surrogate", T("\"a\\ud800\""), STR, SN_JSON_ESURROGATE, 2},
    {"lone low surrogate", T("\"\\udc00\""), STR, SN_JSON_ESURROGATE, 1},
    {"high surrogate then a letter", T("\"\\ud800\\u0041\""), STR, SN_JSON_ESURROGATE, 1},
    {"high surrogate then another escape", T("\"\\ud800\\n\""), STR, SN_JSON_ESURROGATE, 1},
    {"two high surrogates", T("\"\\ud800\\ud800\""), STR, SN_JSON_ESURROGATE, 1},
    {"\\u0000", T("\"x\\u0000\""), STR, SN_JSON_ENUL, 2},
    {"raw control character", T("\"a\x01\""), STR, SN_JSON_ECONTROL, 2},
    {"raw newline", T("\"a\nb\""), STR, SN_JSON_ECONTROL, 2},
    {"raw tab", T("\"a\tb\""), STR, SN_JSON_ECONTROL, 2},
    {"raw NUL byte", T("\"a\0b\""), STR, SN_JSON_ECONTROL, 2},
    {"invalid UTF-8 byte", T("\"ok\xff\""), STR, SN_JSON_EUTF8, 3},
    {"overlong UTF-8", T("\"\xc0\xaf\""), STR, SN_JSON_EUTF8, 1},
    {"UTF-8 surrogate", T("\"\xed\xa0\x80\""), STR, SN_JSON_EUTF8, 1},
    {"UTF-8 cut by the quote", T("\"\xe2\x82\""), STR, SN_JSON_EUTF8, 1},
    {"UTF-8 cut by the end", T("\"\xe2\x82"), STR, SN_JSON_EUTF8, 1},
    {"minus alone", T("-"), NUM, SN_JSON_ENUMBER, 1},
    {"minus then a letter", T("-a"), NUM, SN_JSON_ENUMBER, 1},
    {"no digit after the point", T("1."), NUM, SN_JSON_ENUMBER, 2},
    {"point then exponent", T("1.e5"), NUM, SN_JSON_ENUMBER, 2},
    {"no digit after e", T("1e"), NUM, SN_JSON_ENUMBER, 2},
    {"no digit after e+", T("1e+"), NUM, SN_JSON_ENUMBER, 3},
    {"leading plus", T("+1"), NUM, SN_JSON_ENUMBER, 0},
    {"leading point", T(".5"), NUM, SN_JSON_ENUMBER, 0},
    {"NaN", T("NaN"), NUM, SN_JSON_ENUMBER, 0},
    {"Infinity", T("-Infinity"), NUM, SN_JSON_ENUMBER, 1},
    {"no number at all", T(""), NUM, SN_JSON_ENUMBER, 0},
    {"exponent without digits", T("2ex"), NUM, SN_JSON_ENUMBER, 2},
    {"truncated literal", T("tru"), LIT_TRUE, SN_JSON_ELITERAL, 0},
    {"capitalised literal", T("True"), LIT_TRUE, SN_JSON_ELITERAL, 0},
    {"nul", T("nul"), LIT_NULL, SN_JSON_ELITERAL, 0},
    {"a string where null was asked", T("\"null\""), LIT_NULL, SN_JSON_ELITERAL, 0},
};

static bool read_tok(sn_json_t *j, tok_t t)
{
    char out[64];
    switch (t) {
    case STR: return sn_json_string(j, out, sizeof out, NULL);
    case NUM: return sn_json_number(j, NULL, NULL, NULL);
    case LIT_TRUE: return sn_json_literal(j, "true");
    case LIT_NULL: return sn_json_literal(j, "null");
    }
    return false;
}

static void test_json_malformed_tokens_are_refused_with_a_position(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        /* Twice: as they are, and after a line and some blanks (positions move with them). */
        for (int shifted = 0; shifted < 2; shifted++) {
            char text[64];
            size_t pre = shifted ? 4 : 0, n = pre;
            memcpy(text, "\n \t ", pre);
            size_t tl = bad_cases[i].len;
            memcpy(text + n, bad_cases[i].text, tl);
            n += tl;
            sn_json_t j = sn_json_reader(text, n);
            if (read_tok(&j, bad_cases[i].tok))
                fail_msg("%s: accepted", bad_cases[i].name);
            if (j.err != bad_cases[i].err || j.err_pos != pre + bad_cases[i].pos)
                fail_msg("%s: %s at %zu, expected %s at %zu", bad_cases[i].name,
                         sn_json_strerror(j.err), j.err_pos, sn_json_strerror(bad_cases[i].err),
                         pre + bad_cases[i].pos);
            /* The cursor is left on the token, on its line, for the caller's message. */
            assert_int_equal(j.in.pos, pre);
            assert_int_equal(j.line, shifted ? 2 : 1);
            assert_int_equal(j.err_column, bad_cases[i].pos + (shifted ? 4 : 1));
            assert_true(strlen(sn_json_strerror(j.err)) > 0);
        }
    }
}

static const struct {
    const char *text;
    size_t len; /* of the number read */
    bool integer;
} good_numbers[] = {
    {"0", 1, true},           {"-0", 2, true},    {"7", 1, true},
    {"1234567890", 10, true}, {"1.5", 3, false},  {"-0.0", 4, false},
    {"1e5", 3, false},        {"1E+5", 4, false}, {"-1.25e-3", 8, false},
    {"10,", 2, true},         {"3}", 1, true},    {"01", 1, true}, /* "0", then a "1" */
    {"-01", 2, true},         {"00", 1, true},    {"1.5.3", 3, false},
};

static void test_json_numbers_end_where_the_grammar_ends(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good_numbers / sizeof good_numbers[0]; i++) {
        const char *t = good_numbers[i].text;
        sn_json_t j = sn_json_reader(t, strlen(t));
        const char *num = NULL;
        size_t len = 0;
        bool integer = !good_numbers[i].integer;
        if (!sn_json_number(&j, &num, &len, &integer))
            fail_msg("%s: refused (%s at %zu)", t, sn_json_strerror(j.err), j.err_pos);
        assert_ptr_equal(num, t);
        assert_int_equal(len, good_numbers[i].len);
        assert_int_equal(integer, good_numbers[i].integer);
        assert_int_equal(j.in.pos, len);
    }
}

static void test_json_leading_zero_is_refused_at_the_next_digit(void **state)
{
    (void)state;
    /* "01" as a whole value: the number is "0" and the end is not where it should be. */
    static const char *const texts[] = {"01", " -012", "00"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        sn_json_t j = sn_json_reader(texts[i], strlen(texts[i]));
        assert_true(sn_json_number(&j, NULL, NULL, NULL));
        assert_false(sn_json_end(&j));
        assert_int_equal(j.err, SN_JSON_ETRAILING);
        assert_int_equal(j.err_pos, strchr(texts[i], '0') - texts[i] + 1);
    }
    sn_json_t j = sn_json_reader("0 \r\n\t", 5);
    assert_true(sn_json_number(&j, NULL, NULL, NULL));
    assert_true(sn_json_end(&j));
}

static void test_json_literals_and_punctuation(void **state)
{
    (void)state;
    static const char text[] = " { \"k\" : true , \"n\":null,\"f\":false ] ";
    sn_json_t j = sn_json_reader(text, sizeof text - 1);
    char key[8];
    assert_false(sn_json_eat(&j, '['));
    assert_int_equal(sn_json_peek(&j), '{');
    assert_true(sn_json_eat(&j, '{'));
    assert_true(sn_json_string(&j, key, sizeof key, NULL));
    assert_string_equal(key, "k");
    assert_true(sn_json_eat(&j, ':'));
    assert_false(sn_json_literal(&j, "false")); /* "true" is there: cursor stays */
    assert_true(sn_json_literal(&j, "true"));
    assert_true(sn_json_eat(&j, ','));
    assert_true(sn_json_string(&j, key, sizeof key, NULL));
    assert_true(sn_json_eat(&j, ':'));
    assert_true(sn_json_literal(&j, "null"));
    assert_true(sn_json_eat(&j, ','));
    assert_true(sn_json_string(&j, NULL, 0, NULL));
    assert_true(sn_json_eat(&j, ':'));
    assert_true(sn_json_literal(&j, "false"));
    assert_false(sn_json_end(&j));
    assert_int_equal(j.err, SN_JSON_ETRAILING);
    assert_int_equal(j.err_pos, sizeof text - 3);
    assert_true(sn_json_eat(&j, ']'));
    assert_true(sn_json_end(&j));
    assert_int_equal(sn_json_peek(&j), -1);
    assert_false(sn_json_eat(&j, '}'));
}

static void test_json_lines_and_columns_count_newlines_in_whitespace(void **state)
{
    (void)state;
    static const char text[] = "\n\r\n  \"ok\"\n\t\"a\\q\"";
    sn_json_t j = sn_json_reader(text, sizeof text - 1);
    assert_true(sn_json_string(&j, NULL, 0, NULL));
    assert_int_equal(j.line, 3);
    assert_int_equal(sn_json_column(&j), 7);
    assert_false(sn_json_string(&j, NULL, 0, NULL));
    assert_int_equal(j.err, SN_JSON_EESCAPE);
    assert_int_equal(j.line, 4);
    assert_int_equal(j.err_column, 4); /* tab, quote, a, then the backslash */
    assert_int_equal(sn_json_column(&j), 2);
}

static void test_json_string_output_is_bounded(void **state)
{
    (void)state;
    char out[8];
    size_t n = 99;
    sn_json_t j = sn_json_reader("\"abcd\"", 6);
    assert_true(sn_json_string(&j, out, 5, &n)); /* four bytes and the NUL */
    assert_int_equal(n, 4);
    assert_string_equal(out, "abcd");

    j = sn_json_reader("\"abcd\"", 6);
    memset(out, 'x', sizeof out);
    assert_false(sn_json_string(&j, out, 4, &n));
    assert_int_equal(j.err, SN_JSON_ELONG);
    assert_int_equal(j.err_pos, 4); /* the 'd' that does not fit */
    assert_int_equal(out[4], 'x');  /* nothing written past cap */

    j = sn_json_reader("\"\\u00e9\"", 8); /* two bytes decoded need three of room */
    assert_false(sn_json_string(&j, out, 2, NULL));
    assert_int_equal(j.err, SN_JSON_ELONG);
    assert_int_equal(j.err_pos, 1);

    j = sn_json_reader("\"\"", 2);
    assert_false(sn_json_string(&j, out, 0, NULL)); /* not even room for the NUL */
    assert_int_equal(j.err, SN_JSON_ELONG);

    /* Only checked: no buffer, no bound. */
    j = sn_json_reader("\"abcdefghij\"", 12);
    assert_true(sn_json_string(&j, NULL, 0, &n));
    assert_int_equal(n, 10);
}

static void test_json_a_deep_nest_is_read_token_by_token(void **state)
{
    (void)state;
    /* The reader keeps no stack: depth is the caller's to limit, and costs the reader nothing. */
    size_t depth = 100000;
    char *text = malloc(2 * depth + 1);
    assert_non_null(text);
    memset(text, '[', depth);
    text[depth] = '0';
    memset(text + depth + 1, ']', depth);
    sn_json_t j = sn_json_reader(text, 2 * depth + 1);
    size_t opened = 0, closed = 0;
    while (sn_json_eat(&j, '['))
        opened++;
    assert_true(sn_json_number(&j, NULL, NULL, NULL));
    while (sn_json_eat(&j, ']'))
        closed++;
    assert_true(sn_json_end(&j));
    assert_int_equal(opened, depth);
    assert_int_equal(closed, depth);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_quote_escapes_as_the_ndjson_sink_does),
        cmocka_unit_test(test_json_quote_writes_nothing_without_room),
        cmocka_unit_test(test_json_write_string_agrees_with_quote),
        cmocka_unit_test(test_json_every_byte_alone_round_trips),
        cmocka_unit_test(test_json_all_bytes_in_one_string_round_trip),
        cmocka_unit_test(test_json_invalid_utf8_reads_back_as_replacement_characters),
        cmocka_unit_test(test_json_string_decodes_every_escape),
        cmocka_unit_test(test_json_malformed_tokens_are_refused_with_a_position),
        cmocka_unit_test(test_json_numbers_end_where_the_grammar_ends),
        cmocka_unit_test(test_json_leading_zero_is_refused_at_the_next_digit),
        cmocka_unit_test(test_json_literals_and_punctuation),
        cmocka_unit_test(test_json_lines_and_columns_count_newlines_in_whitespace),
        cmocka_unit_test(test_json_string_output_is_bounded),
        cmocka_unit_test(test_json_a_deep_nest_is_read_token_by_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
