/*
 * The result sinks: CSV (quoted by libcsv) and NDJSON, both driven by the
 * field table in fields.c, so neither writer knows which probe ran.
 *
 * Rows are formatted into the sink's own buffer and handed to write(2) in
 * whole rows only: when more than 64 KiB are buffered, when the engine calls
 * sn_output_flush (about once a second) and at close. A killed process thus
 * leaves a file that ends on a row boundary and misses at most the last
 * second of rows. stdio is not used for the data because its flushes cut rows
 * at arbitrary bytes. The buffer and the per-field scratch space are
 * allocated once at open; a row costs no allocation.
 *
 * The file itself is an sn_outfile (lib/outfile.h): a unique temporary next
 * to PATH, renamed over it at close after fsync, so PATH is either the old
 * file or the whole new one; a device, FIFO or "-" is written directly; one
 * writer per PATH. A failed write is cut back to the last whole row, so after
 * a write error (a full disk) the sink stops writing, keeps the temporary
 * file of whole rows for inspection, and close returns the first error.
 *
 * CSV: a header row of field names, then one row per result, lines ending in
 * "\n". A cell is quoted only when it has to be: when it holds a comma, quote,
 * CR or LF, when it starts or ends with a blank (libcsv and others strip those
 * from unquoted cells), or, for text columns, when it starts with '=', '+',
 * '-', '@', TAB or CR. Such a text cell (PTR names, AS organisations,
 * sources, flags, file names: text from outside) is also neutralised, since
 * spreadsheets evaluate a formula even in a quoted cell (OWASP CSV
 * injection): the PTR cell escapes its first character as DNS text does
 * ("\\=cmd.example.com"), any other gets a leading apostrophe; both are
 * reversible (scanner/text.h) and resultsin.c reads the value back as it was.
 * NDJSON keeps the exact text.
 *
 * NDJSON: one object per line, keys in table order; int columns as numbers,
 * bool columns as true/false, "" as null. Strings go through the one JSON
 * writer (lib/json.h): escaped per RFC 8259, and a byte that does not begin a
 * valid UTF-8 sequence written as \ufffd, so the output is valid JSON
 * whatever bytes an input file carried.
 */
#include "reports/output.h"
#include "lib/json.h"
#include "lib/outfile.h"
#include "lib/text.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_AT (64u * 1024u)
#define FIELD_CAP 16384u

struct sn_output {
    sn_output_format_t fmt;
    sn_outfile_t *file;
    bool to_stdout;
    char *path; /* as given, for messages */
    sn_field_ctx_t ctx;
    char vantage[256];
    char *buf; /* whole rows waiting for write(2) */
    size_t len;
    size_t cap;
    unsigned long long rows;
    sn_status_t failed; /* first write error; sticky */
    sn_error_t failure;
    char field[FIELD_CAP];
};

void sn_output_set_vantage(sn_output_t *o, const char *vantage)
{
    if (o == NULL)
        return;
    snprintf(o->vantage, sizeof o->vantage, "%s", vantage ? vantage : "");
    o->ctx.vantage = o->vantage;
}

/*
 * Makes room for extra more bytes in the row buffer. Grows only when a single
 * row is larger than the slack left above FLUSH_AT, which is rare.
 */
static sn_status_t reserve(sn_output_t *o, size_t extra)
{
    if (o->cap - o->len >= extra)
        return SN_OK;
    size_t want = o->cap;
    while (want - o->len < extra) {
        if (want > SIZE_MAX / 2)
            return SN_ENOMEM;
        want *= 2;
    }
    char *nb = realloc(o->buf, want);
    if (nb == NULL)
        return SN_ENOMEM;
    o->buf = nb;
    o->cap = want;
    return SN_OK;
}

/* Repeats the first write error; the sink writes nothing after one. */
static sn_status_t failed(const sn_output_t *o, sn_error_t *err)
{
    if (err != NULL)
        *err = o->failure;
    return o->failed;
}

static sn_status_t flush_buf(sn_output_t *o, sn_error_t *err)
{
    if (o->failed != SN_OK)
        return failed(o, err);
    if (o->len == 0)
        return SN_OK;
    /* The buffer holds whole rows only, and a failed write is cut back to
     * where it began: the file ends on a row boundary whatever happens. */
    if (sn_outfile_write(o->file, o->buf, o->len, &o->failure) != SN_OK) {
        const char *temp = sn_outfile_temp(o->file);
        size_t k = strlen(o->failure.msg);
        if (temp != NULL)
            snprintf(o->failure.msg + k, sizeof o->failure.msg - k,
                     "; the whole rows written before are kept in %s", temp);
        o->failed = SN_EIO;
        o->len = 0;
        return failed(o, err);
    }
    o->len = 0;
    return SN_OK;
}

sn_status_t sn_output_flush(sn_output_t *o, sn_error_t *err)
{
    if (o == NULL)
        return SN_OK;
    return flush_buf(o, err);
}

/* ---- CSV ---------------------------------------------------------------- */

/* Bytes that make a cell need quotes wherever they are (RFC 4180, and CR). */
static const bool quote_byte[256] = {[','] = true, ['"'] = true, ['\r'] = true, ['\n'] = true};

static bool csv_needs_quotes(const char *v, size_t n, sn_field_type_t type)
{
    if (n == 0)
        return false;
    unsigned char first = (unsigned char)v[0], last = (unsigned char)v[n - 1];
    if (first == ' ' || first == '\t' || last == ' ' || last == '\t')
        return true;
    if (type == SN_FIELD_STR &&
        (first == '=' || first == '+' || first == '-' || first == '@' || first == '\r'))
        return true;
    /* Cells are short (an address, a label): a plain loop beats strpbrk's set-up. */
    for (size_t i = 0; i < n; i++)
        if (quote_byte[(unsigned char)v[i]])
            return true;
    return false;
}

/* One cell of n bytes (strlen(v): the caller has it already, once per cell). */
static sn_status_t csv_cell(sn_output_t *o, const char *v, size_t n, sn_field_type_t type)
{
    if (!csv_needs_quotes(v, n, type)) {
        if (reserve(o, n) != SN_OK)
            return SN_ENOMEM;
        memcpy(o->buf + o->len, v, n);
        o->len += n;
        return SN_OK;
    }
    /* Every quote doubles, plus the two around the cell. */
    if (n > (SIZE_MAX - 2) / 2 || reserve(o, 2 * n + 2) != SN_OK)
        return SN_ENOMEM;
    o->len += csv_write(o->buf + o->len, o->cap - o->len, v, n);
    return SN_OK;
}

bool sn_csv_fput_cell(FILE *f, const char *v, bool neutralise)
{
    size_t n = strlen(v);
    bool formula = neutralise && sn_csv_formula_like(v, n);
    if (!formula) {
        /* Quoting is the same for every type here; only the prefix is the caller's choice. */
        if (csv_needs_quotes(v, n, SN_FIELD_INT))
            csv_fwrite(f, v, n);
        else
            fwrite(v, 1, n, f);
        return true;
    }
    char *p = malloc(n + 2);
    if (p == NULL)
        return false;
    p[0] = '\'';
    memcpy(p + 1, v, n + 1);
    csv_fwrite(f, p, n + 1);
    free(p);
    return true;
}

static sn_status_t csv_char(sn_output_t *o, char c)
{
    if (reserve(o, 1) != SN_OK)
        return SN_ENOMEM;
    o->buf[o->len++] = c;
    return SN_OK;
}

static sn_status_t csv_header(sn_output_t *o)
{
    for (size_t i = 0; i < sn_field_count; i++) {
        if ((i > 0 && csv_char(o, ',') != SN_OK) ||
            csv_cell(o, sn_fields[i].name, strlen(sn_fields[i].name), SN_FIELD_STR) != SN_OK)
            return SN_ENOMEM;
    }
    return csv_char(o, '\n');
}

/* The cell of column i and its length: from the stored cells when given, else
 * formatted from r into o->field. */
static const char *cell_of(sn_output_t *o, const sn_result_t *r, const char *const *cells, size_t i,
                           size_t *n)
{
    if (cells != NULL) {
        const char *v = cells[i] != NULL ? cells[i] : "";
        *n = strlen(v);
        return v;
    }
    o->field[0] = '\0';
    *n = sn_fields[i].format(&o->ctx, r, o->field, sizeof o->field - 1);
    return o->field;
}

/*
 * One CSV cell that holds text from outside (or a stored cell): neutralised
 * when it reads as a formula (PTR names escaped as DNS text, others behind an
 * apostrophe), then quoted if it has to be.
 */
static sn_status_t csv_text_cell(sn_output_t *o, size_t i, const char *v, size_t n)
{
    const sn_field_t *fd = &sn_fields[i];
    char *tmp = NULL;
    if (fd->type == SN_FIELD_STR && sn_csv_formula_like(v, n)) {
        bool ptr = i == SN_COL_PTR;
        if (!ptr || sn_ptr_formula_like(v, n)) {
            if ((tmp = malloc(n + 2)) == NULL) /* rare: a formula-like cell */
                return SN_ENOMEM;
            tmp[0] = ptr ? '\\' : '\'';
            memcpy(tmp + 1, v, n);
            tmp[++n] = '\0';
            v = tmp;
        }
    }
    sn_status_t st = csv_cell(o, v, n, fd->type);
    free(tmp);
    return st;
}

/*
 * A row formatted from a result writes each cell straight into the row
 * buffer, which always has room for a whole cell there (the buffer is twice
 * FLUSH_AT and a cell at most FIELD_CAP). A cell that turns out to need
 * quoting or neutralising is moved to o->field and written again from there.
 */
static sn_status_t csv_row(sn_output_t *o, const sn_result_t *r, const char *const *cells)
{
    const sn_field_t *fields = sn_fields; /* read once: each read checks the table is built */
    size_t nf = sn_field_count;
    for (size_t i = 0; i < nf; i++) {
        if (cells != NULL) {
            size_t n;
            const char *v = cell_of(o, r, cells, i, &n);
            if ((i > 0 && csv_char(o, ',') != SN_OK) ||
                (n > 0 && csv_text_cell(o, i, v, n) != SN_OK))
                return SN_ENOMEM;
            continue;
        }
        if (reserve(o, FIELD_CAP + 1) != SN_OK)
            return SN_ENOMEM;
        if (i > 0)
            o->buf[o->len++] = ',';
        const sn_field_t *fd = &fields[i];
        char *v = o->buf + o->len;
        v[0] = '\0';
        size_t n = fd->format(&o->ctx, r, v, FIELD_CAP - 1);
        if (n == 0) /* most cells of a row are empty: nothing to quote */
            continue;
        /* Fixed names, addresses and common numbers are never quoted or neutralised. */
        if (fd->plain || (fd->decl == NULL && fd->type != SN_FIELD_STR) ||
            (!csv_needs_quotes(v, n, fd->type) &&
             !(fd->type == SN_FIELD_STR && sn_csv_formula_like(v, n)))) {
            o->len += n;
            continue;
        }
        memcpy(o->field, v, n + 1);
        if (csv_text_cell(o, i, o->field, n) != SN_OK)
            return SN_ENOMEM;
    }
    return csv_char(o, '\n');
}

/* ---- JSON --------------------------------------------------------------- */

static sn_status_t json_raw(sn_output_t *o, const char *s, size_t n)
{
    if (reserve(o, n) != SN_OK)
        return SN_ENOMEM;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    return SN_OK;
}

static sn_status_t json_row(sn_output_t *o, const sn_result_t *r, const char *const *cells)
{
    if (json_raw(o, "{", 1) != SN_OK)
        return SN_ENOMEM;
    for (size_t i = 0; i < sn_field_count; i++) {
        const sn_field_t *fd = &sn_fields[i];
        /* Field names are plain identifiers (the tests hold them to that). */
        size_t nl = strlen(fd->name);
        if (reserve(o, nl + 4) != SN_OK)
            return SN_ENOMEM;
        if (i > 0)
            o->buf[o->len++] = ',';
        o->buf[o->len++] = '"';
        memcpy(o->buf + o->len, fd->name, nl);
        o->len += nl;
        o->buf[o->len++] = '"';
        o->buf[o->len++] = ':';

        size_t n;
        const char *v = cell_of(o, r, cells, i, &n);
        sn_status_t st;
        if (n == 0)
            st = json_raw(o, "null", 4);
        else if (fd->type == SN_FIELD_BOOL)
            st = strcmp(v, "0") == 0 ? json_raw(o, "false", 5) : json_raw(o, "true", 4);
        else if (fd->type == SN_FIELD_INT)
            st = json_raw(o, v, n);
        else if (n > (SIZE_MAX - 2) / 6)
            st = SN_ENOMEM;
        else if ((st = reserve(o, SN_JSON_QUOTED_MAX(n))) == SN_OK)
            o->len += sn_json_quote(o->buf + o->len, o->cap - o->len, v, n);
        if (st != SN_OK)
            return st;
    }
    return json_raw(o, "}\n", 2);
}

/* ---- lifecycle ---------------------------------------------------------- */

static void discard(sn_output_t *o)
{
    free(o->buf);
    free(o->path);
    free(o);
}

sn_status_t sn_output_open(sn_output_t **out, sn_output_format_t fmt, const char *path,
                           const sn_targets_t *targets, sn_error_t *err)
{
    if (out == NULL || path == NULL || path[0] == '\0')
        return sn_error_set(err, SN_EINVAL, "no output path given");
    *out = NULL;
    if (fmt != SN_OUTPUT_CSV && fmt != SN_OUTPUT_NDJSON)
        return sn_error_set(err, SN_EINVAL, "unknown output format %d", (int)fmt);

    sn_output_t *o = calloc(1, sizeof *o);
    if (o == NULL)
        return sn_error_set(err, SN_ENOMEM, "out of memory opening output %s", path);
    o->fmt = fmt;
    o->ctx.targets = targets;
    o->cap = 2 * FLUSH_AT;
    o->buf = malloc(o->cap);
    if (o->buf == NULL) {
        discard(o);
        return sn_error_set(err, SN_ENOMEM, "out of memory opening output %s", path);
    }

    o->to_stdout = strcmp(path, "-") == 0;
    o->path = strdup(o->to_stdout ? "standard output" : path);
    if (o->path == NULL) {
        discard(o);
        return sn_error_set(err, SN_ENOMEM, "out of memory opening output %s", path);
    }
    sn_status_t ost = sn_outfile_open(path, &o->file, err);
    if (ost != SN_OK) {
        discard(o);
        return ost;
    }

    if (fmt == SN_OUTPUT_CSV) {
        sn_status_t st = csv_header(o);
        if (st == SN_OK)
            st = flush_buf(o, err);
        else
            sn_error_set(err, st, "out of memory writing the header of %s", path);
        if (st != SN_OK) {
            sn_outfile_abort(o->file, false);
            discard(o);
            return st;
        }
    }
    *out = o;
    return SN_OK;
}

static sn_status_t write_row(sn_output_t *o, const sn_result_t *r, const char *const *cells,
                             sn_error_t *err)
{
    if (o->failed != SN_OK)
        return failed(o, err);

    size_t mark = o->len;
    sn_status_t st = o->fmt == SN_OUTPUT_CSV ? csv_row(o, r, cells) : json_row(o, r, cells);
    if (st != SN_OK) {
        o->len = mark; /* never leave half a row in the buffer */
        return sn_error_set(err, st, "out of memory formatting a row for %s", o->path);
    }
    o->rows++;
    if (o->len >= FLUSH_AT)
        return flush_buf(o, err);
    return SN_OK;
}

sn_status_t sn_output_write(sn_output_t *o, const sn_result_t *r, sn_error_t *err)
{
    if (o == NULL || r == NULL)
        return sn_error_set(err, SN_EINVAL, "no output or no result to write");
    return write_row(o, r, NULL, err);
}

sn_status_t sn_output_write_cells(sn_output_t *o, const char *const *cells, sn_error_t *err)
{
    if (o == NULL || cells == NULL)
        return sn_error_set(err, SN_EINVAL, "no output or no cells to write");
    return write_row(o, NULL, cells, err);
}

unsigned long long sn_output_rows(const sn_output_t *o)
{
    return o != NULL ? o->rows : 0;
}

sn_status_t sn_output_close(sn_output_t *o, sn_error_t *err)
{
    if (o == NULL)
        return SN_OK;
    sn_status_t st = flush_buf(o, err);
    if (st != SN_OK) {
        sn_outfile_abort(o->file, true); /* whole rows, named in the message */
        discard(o);
        return st;
    }
    st = sn_outfile_commit(o->file, err);
    discard(o);
    return st;
}
