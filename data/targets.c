/*
 * The target set: distinct (address, port) pairs with their listing counts,
 * source labels and seen times, built from inputs read one after another.
 *
 * Harvested lists run to millions of entries, so memory is counted per target:
 * targets live in one growable array (56 bytes each) and are found through an
 * open-addressing table of 8-byte slots (index plus 32 hash bits, so that most
 * probes never touch the array), power-of-two sized with linear probing and
 * grown at 0.7 load by re-inserting from the array. Each target's source
 * labels form a circular singly linked list in a shared arena of 8-byte links:
 * the target points at its newest link, whose `next` is the oldest, which
 * gives O(1) append, O(1) "same label as last time" (the common case: an input
 * listing a target twice), and iteration in first-seen order without a
 * reversal. A target with one label (most: one harvest lists it) holds the label
 * itself, marked by ONE_LABEL, and no link: no arena memory and no cold link to
 * read when its row is written. Labels and flags are interned in a small string table, so a
 * target stores a 32-bit id instead of a string.
 */
#include "data/targets.h"
#include "lib/fnv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#define NO_INDEX SN_NO_INDEX
#define MAX_TARGETS (UINT32_MAX - 1u)
#define ONE_LABEL 0x80000000u /* t->sources holds a label id, not a link */
#define MAX_LINKS (ONE_LABEL - 1u)
#define CHUNK_BYTES 16384u

/* --- small helpers ------------------------------------------------------ */

/*
 * Grows *p (an array of elem-sized items with capacity *cap) so that it holds
 * at least need items, doubling from min_cap. Returns SN_OK or SN_ENOMEM and
 * leaves the array untouched on failure.
 */
static sn_status_t grow(void **p, uint32_t *cap, size_t need, size_t elem, uint32_t min_cap)
{
    if (need <= *cap)
        return SN_OK;
    size_t ncap = *cap ? *cap : min_cap;
    while (ncap < need)
        ncap *= 2;
    if (ncap > UINT32_MAX)
        ncap = UINT32_MAX;
    if (ncap < need || ncap > SIZE_MAX / elem)
        return SN_ENOMEM;
    void *np = realloc(*p, ncap * elem);
    if (np == NULL)
        return SN_ENOMEM;
    *p = np;
    *cap = (uint32_t)ncap;
    return SN_OK;
}

/* --- string table ------------------------------------------------------- */

/*
 * Interned strings: ids are dense (0, 1, ...), the text never moves once
 * stored (it is carved from fixed chunks), so pointers handed out stay valid
 * until the set is freed.
 */
typedef struct strtab {
    const char **str; /* id -> text */
    uint32_t n, cap;
    uint32_t *slots; /* open addressing over ids; NO_INDEX is empty */
    size_t nslots;   /* power of two, or 0 */
    char **chunks;
    uint32_t nchunks, chunkcap;
    size_t used, avail; /* in the newest chunk */
} strtab_t;

static uint64_t str_hash(const char *s, size_t len)
{
    return sn_mix64(sn_fnv1a64(SN_FNV64_OFFSET, s, len) ^ len);
}

static void strtab_free(strtab_t *st)
{
    for (uint32_t i = 0; i < st->nchunks; i++)
        free(st->chunks[i]);
    free(st->chunks);
    free(st->slots);
    free(st->str);
    memset(st, 0, sizeof *st);
}

static void strtab_place(uint32_t *slots, size_t nslots, uint64_t h, uint32_t id)
{
    size_t mask = nslots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        if (slots[i] == NO_INDEX) {
            slots[i] = id;
            return;
        }
    }
}

static sn_status_t strtab_rehash(strtab_t *st)
{
    size_t nslots = st->nslots ? st->nslots * 2 : 64;
    uint32_t *slots = malloc(nslots * sizeof *slots);
    if (slots == NULL)
        return SN_ENOMEM;
    memset(slots, 0xff, nslots * sizeof *slots);
    for (uint32_t id = 0; id < st->n; id++)
        strtab_place(slots, nslots, str_hash(st->str[id], strlen(st->str[id])), id);
    free(st->slots);
    st->slots = slots;
    st->nslots = nslots;
    return SN_OK;
}

/* Copies len bytes plus a NUL into chunk storage; NULL on no memory. */
static char *strtab_store(strtab_t *st, const char *s, size_t len)
{
    if (len + 1 > st->avail - st->used || st->nchunks == 0) {
        size_t size = len + 1 > CHUNK_BYTES ? len + 1 : CHUNK_BYTES;
        if (grow((void **)&st->chunks, &st->chunkcap, (size_t)st->nchunks + 1, sizeof *st->chunks,
                 8) != SN_OK)
            return NULL;
        char *c = malloc(size);
        if (c == NULL)
            return NULL;
        st->chunks[st->nchunks++] = c;
        st->used = 0;
        st->avail = size;
    }
    char *dst = st->chunks[st->nchunks - 1] + st->used;
    memcpy(dst, s, len);
    dst[len] = '\0';
    st->used += len + 1;
    return dst;
}

/* Returns the id of s, adding it if new; *id untouched on SN_ENOMEM/SN_ELIMIT. */
static sn_status_t strtab_intern(strtab_t *st, const char *s, uint32_t *id)
{
    size_t len = strlen(s);
    uint64_t h = str_hash(s, len);

    if (st->nslots != 0) {
        size_t mask = st->nslots - 1;
        for (size_t i = (size_t)h & mask; st->slots[i] != NO_INDEX; i = (i + 1) & mask) {
            const char *t = st->str[st->slots[i]];
            if (strncmp(t, s, len) == 0 && t[len] == '\0') {
                *id = st->slots[i];
                return SN_OK;
            }
        }
    }
    if (st->n >= MAX_TARGETS)
        return SN_ELIMIT;
    if ((size_t)(st->n + 1) * 10 > st->nslots * 7 && strtab_rehash(st) != SN_OK)
        return SN_ENOMEM;
    if (grow((void **)&st->str, &st->cap, (size_t)st->n + 1, sizeof *st->str, 16) != SN_OK)
        return SN_ENOMEM;
    char *copy = strtab_store(st, s, len);
    if (copy == NULL)
        return SN_ENOMEM;
    st->str[st->n] = copy;
    strtab_place(st->slots, st->nslots, h, st->n);
    *id = st->n++;
    return SN_OK;
}

/* --- the set ------------------------------------------------------------ */

typedef struct slot {
    uint32_t idx; /* into targets, or NO_INDEX when empty */
    uint32_t tag; /* high 32 bits of the hash: most mismatches end here */
} slot_t;

typedef struct link {
    uint32_t label; /* string id */
    uint32_t next;  /* next link in the target's ring */
} link_t;

struct sn_targets {
    sn_target_t *t;
    uint32_t n, cap;
    slot_t *slots;
    size_t nslots; /* power of two, or 0 */
    link_t *links;
    uint32_t nlinks, linkcap;
    uint32_t *input_label; /* input index -> string id of its name */
    uint64_t *input_listings;
    uint32_t ninputs, inputcap, listcap;
    uint64_t listings;
    uint64_t seed;
    strtab_t strs;
};

sn_targets_t *sn_targets_new(void)
{
    sn_targets_t *ts = calloc(1, sizeof *ts);
    if (ts == NULL)
        return NULL;
    /*
     * A per-process seed keeps crafted input from piling addresses into one
     * probe run; output order never depends on it (targets keep insertion
     * order in the array).
     */
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)(uintptr_t)ts;
    ts->seed = sn_mix64(seed);
    return ts;
}

void sn_targets_free(sn_targets_t *ts)
{
    if (ts == NULL)
        return;
    free(ts->t);
    free(ts->slots);
    free(ts->links);
    free(ts->input_label);
    free(ts->input_listings);
    strtab_free(&ts->strs);
    free(ts);
}

int sn_targets_begin_input(sn_targets_t *ts, const char *name)
{
    uint32_t id;
    sn_status_t st;

    if (ts == NULL)
        return SN_EINVAL;
    if (ts->ninputs >= (uint32_t)INT32_MAX)
        return SN_ELIMIT;
    if ((st = strtab_intern(&ts->strs, name != NULL ? name : "-", &id)) != SN_OK)
        return st;
    if (grow((void **)&ts->input_label, &ts->inputcap, (size_t)ts->ninputs + 1,
             sizeof *ts->input_label, 8) != SN_OK)
        return SN_ENOMEM;
    if (grow((void **)&ts->input_listings, &ts->listcap, (size_t)ts->ninputs + 1,
             sizeof *ts->input_listings, 8) != SN_OK)
        return SN_ENOMEM;
    ts->input_label[ts->ninputs] = id;
    ts->input_listings[ts->ninputs] = 0;
    return (int)ts->ninputs++;
}

/* The key with padding and unused bytes zeroed, so that stored keys are canonical. */
static bool normalise(const sn_addr_t *in, sn_addr_t *out)
{
    memset(out, 0, sizeof *out);
    if (in->family == AF_INET)
        memcpy(out->ip, in->ip, 4);
    else if (in->family == AF_INET6)
        memcpy(out->ip, in->ip, 16);
    else
        return false;
    out->family = in->family;
    out->port = in->port;
    return true;
}

/* Slot position of key: the slot holding it, or the empty slot where it would go. */
static size_t lookup(const sn_targets_t *ts, const sn_addr_t *key, uint64_t h, bool *found)
{
    size_t mask = ts->nslots - 1;
    uint32_t tag = (uint32_t)(h >> 32);
    size_t i = (size_t)h & mask;

    for (;; i = (i + 1) & mask) {
        const slot_t *s = &ts->slots[i];
        if (s->idx == NO_INDEX) {
            *found = false;
            return i;
        }
        if (s->tag == tag && memcmp(&ts->t[s->idx].addr, key, sizeof *key) == 0) {
            *found = true;
            return i;
        }
    }
}

static sn_status_t rehash(sn_targets_t *ts)
{
    size_t nslots = ts->nslots ? ts->nslots * 2 : 1024;
    if (nslots > SIZE_MAX / sizeof(slot_t))
        return SN_ENOMEM;
    slot_t *slots = malloc(nslots * sizeof *slots);
    if (slots == NULL)
        return SN_ENOMEM;
    memset(slots, 0xff, nslots * sizeof *slots);
    size_t mask = nslots - 1;
    for (uint32_t idx = 0; idx < ts->n; idx++) {
        uint64_t h = sn_addr_hash(&ts->t[idx].addr, ts->seed);
        size_t i = (size_t)h & mask;
        while (slots[i].idx != NO_INDEX)
            i = (i + 1) & mask;
        slots[i].idx = idx;
        slots[i].tag = (uint32_t)(h >> 32);
    }
    free(ts->slots);
    ts->slots = slots;
    ts->nslots = nslots;
    return SN_OK;
}

/* True if label is already in t's ring; checks the newest first (the usual hit). */
static bool has_label(const sn_targets_t *ts, const sn_target_t *t, uint32_t label)
{
    if (t->sources == NO_INDEX)
        return false;
    if (t->sources & ONE_LABEL)
        return (t->sources & ~ONE_LABEL) == label;
    uint32_t i = t->sources;
    do {
        if (ts->links[i].label == label)
            return true;
        i = ts->links[i].next;
    } while (i != t->sources);
    return false;
}

sn_status_t sn_targets_add(sn_targets_t *ts, const sn_addr_t *addr, const sn_listing_t *listing)
{
    sn_addr_t key;
    uint32_t label, flags = NO_INDEX;
    sn_status_t st;

    if (ts == NULL || addr == NULL || !normalise(addr, &key))
        return SN_EINVAL;
    if (ts->ninputs == 0)
        return SN_EINVAL; /* sn_targets_begin_input must come first */
    uint32_t cur = ts->ninputs - 1;

    /* Everything that can fail happens before the set changes. */
    label = ts->input_label[cur];
    if (listing != NULL && listing->source != NULL && listing->source[0] != '\0' &&
        (st = strtab_intern(&ts->strs, listing->source, &label)) != SN_OK)
        return st;
    if (listing != NULL && listing->flags != NULL && listing->flags[0] != '\0' &&
        (st = strtab_intern(&ts->strs, listing->flags, &flags)) != SN_OK)
        return st;
    /* Room for two links: a second label turns the inline one into a link too. */
    if (ts->nlinks + 2 > MAX_LINKS || label >= ONE_LABEL)
        return SN_ELIMIT;
    if (grow((void **)&ts->links, &ts->linkcap, (size_t)ts->nlinks + 2, sizeof *ts->links, 1024) !=
        SN_OK)
        return SN_ENOMEM;

    uint64_t h = sn_addr_hash(&key, ts->seed);
    bool found = false;
    size_t pos = 0;
    if (ts->nslots != 0)
        pos = lookup(ts, &key, h, &found);
    sn_target_t *t;
    if (found) {
        t = &ts->t[ts->slots[pos].idx];
    } else {
        if (ts->n >= MAX_TARGETS)
            return SN_ELIMIT;
        if (grow((void **)&ts->t, &ts->cap, (size_t)ts->n + 1, sizeof *ts->t, 1024) != SN_OK)
            return SN_ENOMEM;
        if ((size_t)(ts->n + 1) * 10 > ts->nslots * 7) {
            if (rehash(ts) != SN_OK)
                return SN_ENOMEM;
            pos = lookup(ts, &key, h, &found);
        }
        t = &ts->t[ts->n];
        memset(t, 0, sizeof *t);
        t->addr = key;
        t->first_input = cur;
        t->sources = NO_INDEX;
        t->flags = NO_INDEX;
        ts->slots[pos].idx = ts->n;
        ts->slots[pos].tag = (uint32_t)(h >> 32);
        ts->n++;
    }

    uint32_t count = (listing != NULL && listing->count != 0) ? listing->count : 1;
    t->seen_count = (t->seen_count > UINT32_MAX - count) ? UINT32_MAX : t->seen_count + count;
    if (listing != NULL) {
        if (listing->first_seen != 0 && (t->first_seen == 0 || listing->first_seen < t->first_seen))
            t->first_seen = listing->first_seen;
        if (listing->last_seen != 0 && (t->last_seen == 0 || listing->last_seen > t->last_seen))
            t->last_seen = listing->last_seen;
    }
    /* The newest listing that carries flags wins: later harvests are fresher. */
    if (flags != NO_INDEX)
        t->flags = flags;

    if (t->sources == NO_INDEX) {
        t->sources = ONE_LABEL | label;
    } else if (!has_label(ts, t, label)) {
        if (t->sources & ONE_LABEL) { /* the inline label becomes the ring's first link */
            uint32_t first = ts->nlinks++;
            ts->links[first].label = t->sources & ~ONE_LABEL;
            ts->links[first].next = first;
            t->sources = first;
        }
        uint32_t l = ts->nlinks++;
        ts->links[l].label = label;
        ts->links[l].next = ts->links[t->sources].next; /* the oldest */
        ts->links[t->sources].next = l;
        t->sources = l;
    }
    ts->input_listings[cur]++;
    ts->listings++;
    return SN_OK;
}

size_t sn_targets_count(const sn_targets_t *ts)
{
    return ts != NULL ? ts->n : 0;
}

const sn_target_t *sn_targets_at(const sn_targets_t *ts, size_t i)
{
    if (ts == NULL || i >= ts->n)
        return NULL;
    return &ts->t[i];
}

const sn_target_t *sn_targets_find(const sn_targets_t *ts, const sn_addr_t *addr)
{
    sn_addr_t key;
    bool found;

    if (ts == NULL || addr == NULL || ts->nslots == 0 || !normalise(addr, &key))
        return NULL;
    size_t pos = lookup(ts, &key, sn_addr_hash(&key, ts->seed), &found);
    return found ? &ts->t[ts->slots[pos].idx] : NULL;
}

size_t sn_targets_input_count(const sn_targets_t *ts)
{
    return ts != NULL ? ts->ninputs : 0;
}

const char *sn_targets_input_name(const sn_targets_t *ts, size_t i)
{
    if (ts == NULL || i >= ts->ninputs)
        return NULL;
    return ts->strs.str[ts->input_label[i]];
}

uint64_t sn_targets_input_listings(const sn_targets_t *ts, size_t i)
{
    if (ts == NULL || i >= ts->ninputs)
        return 0;
    return ts->input_listings[i];
}

uint64_t sn_targets_listings(const sn_targets_t *ts)
{
    return ts != NULL ? ts->listings : 0;
}

void sn_targets_foreach_source(const sn_targets_t *ts, const sn_target_t *t,
                               void (*fn)(const char *label, void *ud), void *ud)
{
    if (ts == NULL || t == NULL || fn == NULL || t->sources == NO_INDEX)
        return;
    if (t->sources & ONE_LABEL) {
        fn(ts->strs.str[t->sources & ~ONE_LABEL], ud);
        return;
    }
    uint32_t newest = t->sources;
    uint32_t i = ts->links[newest].next;
    for (;;) {
        fn(ts->strs.str[ts->links[i].label], ud);
        if (i == newest)
            break;
        i = ts->links[i].next;
    }
}

const char *sn_targets_flags(const sn_targets_t *ts, const sn_target_t *t)
{
    if (ts == NULL || t == NULL || t->flags == NO_INDEX || t->flags >= ts->strs.n)
        return NULL;
    return ts->strs.str[t->flags];
}
