/* monitor._fold: the text folding of monitor.normalize.fold_text, in one pass in C.
 *
 * fold(text, fold_char) -> (hay, origins)
 *   hay: ' ' + the folded tokens joined by single spaces + ' ', exactly as the pure-Python
 *        fold_text builds it; every character is folded by fold_char (ASCII inline), whose
 *        results are cached here for the Basic Multilingual Plane.
 *   origins: bytes, one native int32 per character of hay: the index in text of the character
 *        it came from (the first separator of a collapsed run for a space).
 *
 * tokens(hay, skip, shortest, longest[, keys[, lonely, company]]) -> list[tuple[int, str]]
 *   Every token of a haystack that is shortest..longest characters long, not in skip (a
 *   TokenSet) and not made of digits only, with its start in the haystack, in text order:
 *   the candidates of the matcher's typo pass.  With keys (a TokenSet), a token that is not
 *   near them (see near) is added to skip instead of being returned.  With lonely and
 *   company (TokenSets), a token in lonely is returned only where the token before or after
 *   it is in company.
 *   A TokenSet is an open-addressing table of the tokens' characters, so the tokens it holds
 *   (nearly all of a text's, once the matcher has seen a few texts) are tested where they
 *   stand in the haystack, without making a str of each.
 *
 * named(hay, skip, shortest, longest, heads, head, text, origins) -> list[tuple[int, str]]
 *   The tokens of tokens(hay, skip, shortest, longest) whose first head characters are in
 *   heads (a TokenSet) and whose first character in text (origins as fold gave them) is a
 *   capital: the candidates of the matcher's pass for inflected names.
 *
 * near(token, keys) -> bool
 *   Whether the token, or the token without one of its characters, is in keys (a TokenSet):
 *   the typo pass's test of a new token against its one-deletion index, most often false.
 *
 * runs(hay, keys, prefixes, longest) -> list[tuple[int, int, int]]
 *   Every run of 1..longest whole tokens of a haystack that is in keys (a TokenSet), as
 *   (its ordinal in keys, the index of the space before it, the index after the space after
 *   it): the matcher's scan of a haystack in ASCII, where every name is whole tokens; a run
 *   is extended only while it is in prefixes (the runs of tokens that begin a key).
 *
 * holds(hashes, value) -> bool
 *   Whether a sorted buffer of native 64-bit unsigned ints (an array('Q')) holds value: the
 *   word lists' lookups (monitor.wordlists), by bisection.
 *
 * All of them are optional speed-ups: monitor.normalize falls back to pure Python (its
 * reference implementation, which the tests compare these with) when this module is absent.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define BMP 0x10000

static PyObject *bmp_cache[BMP]; /* code point -> its fold (a str), filled lazily */

/* The haystack being built: one byte per character while every character is ASCII (news
 * text in Latin, Cyrillic, Greek... script), widened to UCS4 at the first that is not (a
 * script written without spaces); the origins are written straight into a bytes object. */
typedef struct {
    Py_UCS1 *narrow;
    Py_UCS4 *wide; /* NULL until needed */
    PyObject *origins; /* bytes, resized at the end */
    Py_ssize_t size;
    Py_ssize_t capacity;
    int last_space;
} Out;

static int out_init(Out *out, Py_ssize_t capacity) {
    out->narrow = PyMem_Malloc((size_t)capacity);
    out->wide = NULL;
    out->origins = PyBytes_FromStringAndSize(NULL, capacity * (Py_ssize_t)sizeof(int32_t));
    out->size = 0;
    out->capacity = capacity;
    out->last_space = 1;
    if (out->narrow == NULL || out->origins == NULL) {
        PyMem_Free(out->narrow);
        Py_XDECREF(out->origins);
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        return -1;
    }
    return 0;
}

static void out_free(Out *out) {
    PyMem_Free(out->narrow);
    PyMem_Free(out->wide);
    Py_XDECREF(out->origins);
}

static int out_grow(Out *out, Py_ssize_t need) {
    Py_ssize_t capacity = out->capacity;
    while (capacity < out->size + need) {
        capacity = capacity * 2 + 16;
    }
    if (out->wide != NULL) {
        Py_UCS4 *wide = PyMem_Realloc(out->wide, (size_t)capacity * sizeof(Py_UCS4));
        if (wide == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        out->wide = wide;
    } else {
        Py_UCS1 *narrow = PyMem_Realloc(out->narrow, (size_t)capacity);
        if (narrow == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        out->narrow = narrow;
    }
    if (_PyBytes_Resize(&out->origins, capacity * (Py_ssize_t)sizeof(int32_t)) < 0) {
        return -1;
    }
    out->capacity = capacity;
    return 0;
}

static int out_widen(Out *out) {
    out->wide = PyMem_Malloc((size_t)out->capacity * sizeof(Py_UCS4));
    if (out->wide == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < out->size; i++) {
        out->wide[i] = out->narrow[i];
    }
    return 0;
}

/* Append one folded character (capacity is the caller's business); -1 on error. */
static inline int out_put(Out *out, Py_UCS4 c, int32_t origin) {
    if (c == ' ') {
        if (out->last_space) {
            return 0;
        }
        out->last_space = 1;
    } else {
        out->last_space = 0;
    }
    if (out->wide != NULL) {
        out->wide[out->size] = c;
    } else if (c < 128) {
        out->narrow[out->size] = (Py_UCS1)c;
    } else {
        if (out_widen(out) < 0) {
            return -1;
        }
        out->wide[out->size] = c;
    }
    ((int32_t *)PyBytes_AS_STRING(out->origins))[out->size] = origin;
    out->size++;
    return 0;
}

/* The fold of a non-ASCII code point, a borrowed reference (cached) or a new one (*owned). */
static PyObject *fold_of(Py_UCS4 code, PyObject *fold_char, int *owned) {
    *owned = 0;
    if (code < BMP && bmp_cache[code] != NULL) {
        return bmp_cache[code];
    }
    PyObject *arg = PyUnicode_FromOrdinal((int)code);
    if (arg == NULL) {
        return NULL;
    }
    PyObject *result = PyObject_CallOneArg(fold_char, arg);
    Py_DECREF(arg);
    if (result == NULL) {
        return NULL;
    }
    if (!PyUnicode_Check(result)) {
        Py_DECREF(result);
        PyErr_SetString(PyExc_TypeError, "fold_char must return a str");
        return NULL;
    }
    if (code < BMP) {
        if (bmp_cache[code] != NULL) { /* filled meanwhile, by a thread that ran in the call */
            Py_DECREF(result);
            return bmp_cache[code];
        }
        bmp_cache[code] = result; /* kept for the life of the process */
        return result;
    }
    *owned = 1;
    return result;
}

static Py_UCS1 ascii_fold[128]; /* ASCII letters lower-cased, digits kept, the rest ' ' */

/* Fold one non-ASCII character of text[i] into out; -1 on error. */
static int fold_other(Out *out, Py_UCS4 c, Py_ssize_t i, Py_ssize_t length, PyObject *fold_char) {
    int owned;
    PyObject *folded = fold_of(c, fold_char, &owned);
    if (folded == NULL) {
        return -1;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(folded);
    /* Room for this fold, one character for each still to come, and the end pad. */
    Py_ssize_t need = n + (length - i) + 1;
    int failed = out->size + need > out->capacity && out_grow(out, need) < 0;
    int fkind = PyUnicode_KIND(folded);
    const void *fdata = PyUnicode_DATA(folded);
    for (Py_ssize_t j = 0; j < n && !failed; j++) {
        failed = out_put(out, PyUnicode_READ(fkind, fdata, j), (int32_t)i) < 0;
    }
    if (owned) {
        Py_DECREF(folded);
    }
    return failed ? -1 : 0;
}

/* The folding loop for one width of str: ASCII by the table, the rest by fold_other. The
 * output's state is kept in locals (stored back around each fold_other) so that it stays in
 * registers. */
#define FOLD_LOOP(NAME, TYPE)                                                                  \
    static int NAME(Out *out, const TYPE *chars, Py_ssize_t length, PyObject *fold_char) {     \
        Py_UCS1 *narrow = out->narrow;                                                         \
        Py_UCS4 *wide = out->wide;                                                             \
        int32_t *origins = (int32_t *)PyBytes_AS_STRING(out->origins);                         \
        Py_ssize_t size = out->size;                                                           \
        int last_space = out->last_space;                                                      \
        for (Py_ssize_t i = 0; i < length; i++) {                                              \
            Py_UCS4 c = chars[i];                                                              \
            if (c >= 128) {                                                                    \
                out->size = size;                                                              \
                out->last_space = last_space;                                                  \
                if (fold_other(out, c, i, length, fold_char) < 0) {                            \
                    return -1;                                                                 \
                }                                                                              \
                narrow = out->narrow;                                                          \
                wide = out->wide;                                                              \
                origins = (int32_t *)PyBytes_AS_STRING(out->origins);                          \
                size = out->size;                                                              \
                last_space = out->last_space;                                                  \
                continue;                                                                      \
            }                                                                                  \
            Py_UCS1 f = ascii_fold[c];                                                         \
            if (f == ' ') {                                                                    \
                if (last_space) {                                                              \
                    continue;                                                                  \
                }                                                                              \
                last_space = 1;                                                                \
            } else {                                                                           \
                last_space = 0;                                                                \
            }                                                                                  \
            if (wide != NULL) {                                                                \
                wide[size] = f;                                                                \
            } else {                                                                           \
                narrow[size] = f;                                                              \
            }                                                                                  \
            origins[size] = (int32_t)i;                                                        \
            size++;                                                                            \
        }                                                                                      \
        out->size = size;                                                                      \
        out->last_space = last_space;                                                          \
        return 0;                                                                              \
    }

FOLD_LOOP(fold_ucs1, Py_UCS1)
FOLD_LOOP(fold_ucs2, Py_UCS2)
FOLD_LOOP(fold_ucs4, Py_UCS4)

static PyObject *fold(PyObject *self, PyObject *args) {
    PyObject *text;
    PyObject *fold_char;
    if (!PyArg_ParseTuple(args, "UO:fold", &text, &fold_char)) {
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    if (length >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "text too long to fold");
        return NULL;
    }
    Out out;
    if (out_init(&out, length + 2) < 0) {
        return NULL;
    }
    out.narrow[0] = ' '; /* the leading pad */
    ((int32_t *)PyBytes_AS_STRING(out.origins))[0] = 0;
    out.size = 1;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    int failed = kind == PyUnicode_1BYTE_KIND ? fold_ucs1(&out, data, length, fold_char)
        : kind == PyUnicode_2BYTE_KIND ? fold_ucs2(&out, data, length, fold_char)
        : fold_ucs4(&out, data, length, fold_char);
    if (!failed && !out.last_space) {
        failed = out_put(&out, ' ', (int32_t)(length ? length - 1 : 0));
    }
    PyObject *hay = NULL;
    if (!failed && out.wide != NULL) {
        hay = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out.wide, out.size);
    } else if (!failed) {
        hay = PyUnicode_New(out.size, 127);
        if (hay != NULL) {
            memcpy(PyUnicode_1BYTE_DATA(hay), out.narrow, (size_t)out.size);
        }
    }
    if (hay == NULL || _PyBytes_Resize(&out.origins, out.size * (Py_ssize_t)sizeof(int32_t)) < 0) {
        Py_XDECREF(hay);
        out_free(&out);
        return NULL;
    }
    PyObject *origins = out.origins;
    out.origins = NULL;
    out_free(&out);
    return Py_BuildValue("(NN)", hay, origins);
}

/* --- TokenSet: a set of tokens that tokens() can test without making a str of each ------ */

typedef struct { /* 24 bytes: a lookup's cache misses are in the slots */
    uint64_t hash; /* 0: empty slot */
    uint32_t offset; /* into the pool */
    uint32_t length;
    uint32_t ordinal; /* how many tokens were added before it (runs() reports it) */
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    Py_ssize_t mask; /* slots - 1, a power of two minus one */
    Py_ssize_t used;
    uint8_t *bloom; /* 8 bits a slot, two set for each token: most absent ones miss here */
    Py_UCS4 *pool;
    Py_ssize_t pool_size;
    Py_ssize_t pool_capacity;
} TokenSet;

#define INLINE static inline __attribute__((always_inline))

INLINE uint64_t hash_chars(int kind, const void *data, Py_ssize_t start, Py_ssize_t end) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (Py_ssize_t i = start; i < end; i++) {
        h ^= PyUnicode_READ(kind, data, i);
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

/* The two bloom bits of a hash (out of 8 x slots), from its high bits (the slots take the
 * low ones). */
static inline uint64_t bloom_bit(TokenSet *set, uint64_t hash, int second) {
    uint64_t mixed = hash * 0x9E3779B97F4A7C15ULL;
    return (second ? mixed >> 40 : mixed >> 20) & ((uint64_t)(set->mask + 1) * 8 - 1);
}

static inline void bloom_add(TokenSet *set, uint64_t hash) {
    for (int second = 0; second < 2; second++) {
        uint64_t bit = bloom_bit(set, hash, second);
        set->bloom[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    }
}

/* False if the token of this hash is surely absent; true if it may be present. */
static inline int bloom_may_hold(TokenSet *set, uint64_t hash) {
    uint64_t one = bloom_bit(set, hash, 0);
    uint64_t two = bloom_bit(set, hash, 1);
    return (set->bloom[one >> 3] >> (one & 7)) & (set->bloom[two >> 3] >> (two & 7)) & 1;
}

/* The slot of the characters data[start:end], without the one at gap (-1: none). */
INLINE Slot *find_slot(TokenSet *set, uint64_t hash, int kind, const void *data,
                       Py_ssize_t start, Py_ssize_t end, Py_ssize_t gap) {
    Py_ssize_t length = end - start - (gap >= 0);
    Py_ssize_t i = (Py_ssize_t)(hash & (uint64_t)set->mask);
    for (;;) {
        Slot *slot = &set->slots[i];
        if (slot->hash == 0) {
            return slot;
        }
        if (slot->hash == hash && (Py_ssize_t)slot->length == length) {
            const Py_UCS4 *chars = set->pool + slot->offset;
            Py_ssize_t j = 0;
            for (Py_ssize_t k = start; j < length; j++, k++) {
                k += k == gap;
                if (chars[j] != PyUnicode_READ(kind, data, k)) {
                    break;
                }
            }
            if (j == length) {
                return slot;
            }
        }
        i = (i + 1) & set->mask;
    }
}

static int tokenset_resize(TokenSet *set, Py_ssize_t size) {
    Slot *slots = PyMem_Calloc((size_t)size, sizeof(Slot));
    uint8_t *bloom = PyMem_Calloc((size_t)size, 1);
    if (slots == NULL || bloom == NULL) {
        PyMem_Free(slots);
        PyMem_Free(bloom);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i <= set->mask && set->slots != NULL; i++) {
        Slot *old = &set->slots[i];
        if (old->hash == 0) {
            continue;
        }
        Py_ssize_t j = (Py_ssize_t)(old->hash & (uint64_t)(size - 1));
        while (slots[j].hash != 0) {
            j = (j + 1) & (size - 1);
        }
        slots[j] = *old;
    }
    PyMem_Free(set->slots);
    PyMem_Free(set->bloom);
    set->slots = slots;
    set->bloom = bloom;
    set->mask = size - 1;
    for (Py_ssize_t i = 0; i < size; i++) {
        if (slots[i].hash != 0) {
            bloom_add(set, slots[i].hash);
        }
    }
    return 0;
}

static int tokenset_add_chars(TokenSet *set, int kind, const void *data, Py_ssize_t start,
                              Py_ssize_t end) {
    if ((set->used + 1) * 2 > set->mask + 1 && tokenset_resize(set, (set->mask + 1) * 2) < 0) {
        return -1;
    }
    uint64_t hash = hash_chars(kind, data, start, end);
    Slot *slot = find_slot(set, hash, kind, data, start, end, -1);
    if (slot->hash != 0) {
        return 0;
    }
    Py_ssize_t length = end - start;
    if (set->pool_size + length > (Py_ssize_t)UINT32_MAX || set->used >= (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "a TokenSet holds up to 2**32 characters");
        return -1;
    }
    if (set->pool_size + length > set->pool_capacity) {
        Py_ssize_t capacity = set->pool_capacity * 2 + length + 1024;
        Py_UCS4 *pool = PyMem_Realloc(set->pool, (size_t)capacity * sizeof(Py_UCS4));
        if (pool == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        set->pool = pool;
        set->pool_capacity = capacity;
    }
    for (Py_ssize_t j = 0; j < length; j++) {
        set->pool[set->pool_size + j] = PyUnicode_READ(kind, data, start + j);
    }
    slot->hash = hash;
    bloom_add(set, hash);
    slot->offset = (uint32_t)set->pool_size;
    slot->length = (uint32_t)length;
    slot->ordinal = (uint32_t)set->used;
    set->pool_size += length;
    set->used++;
    return 0;
}

static PyObject *tokenset_add(TokenSet *set, PyObject *token) {
    if (!PyUnicode_Check(token)) {
        PyErr_SetString(PyExc_TypeError, "a TokenSet holds str");
        return NULL;
    }
    if (tokenset_add_chars(set, PyUnicode_KIND(token), PyUnicode_DATA(token), 0,
                           PyUnicode_GET_LENGTH(token)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static int tokenset_contains(TokenSet *set, PyObject *token) {
    if (!PyUnicode_Check(token)) {
        return 0;
    }
    int kind = PyUnicode_KIND(token);
    const void *data = PyUnicode_DATA(token);
    Py_ssize_t length = PyUnicode_GET_LENGTH(token);
    return find_slot(set, hash_chars(kind, data, 0, length), kind, data, 0, length, -1)->hash != 0;
}

static Py_ssize_t tokenset_len(TokenSet *set) {
    return set->used;
}

/* A new TokenSet has its table before __init__ runs (or if it never does). */
static PyObject *tokenset_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    TokenSet *set = (TokenSet *)PyType_GenericNew(type, args, kwds);
    if (set != NULL && tokenset_resize(set, 1024) < 0) {
        Py_DECREF(set);
        return NULL;
    }
    return (PyObject *)set;
}

static int tokenset_init(TokenSet *set, PyObject *args, PyObject *kwds) {
    PyObject *iterable = NULL;
    if (!PyArg_ParseTuple(args, "|O:TokenSet", &iterable)) {
        return -1;
    }
    if (iterable == NULL) {
        return 0;
    }
    PyObject *iterator = PyObject_GetIter(iterable);
    if (iterator == NULL) {
        return -1;
    }
    PyObject *item;
    while ((item = PyIter_Next(iterator)) != NULL) {
        PyObject *done = tokenset_add(set, item);
        Py_DECREF(item);
        if (done == NULL) {
            Py_DECREF(iterator);
            return -1;
        }
        Py_DECREF(done);
    }
    Py_DECREF(iterator);
    return PyErr_Occurred() ? -1 : 0;
}

static void tokenset_dealloc(TokenSet *set) {
    PyMem_Free(set->slots);
    PyMem_Free(set->bloom);
    PyMem_Free(set->pool);
    Py_TYPE(set)->tp_free((PyObject *)set);
}

static PyMethodDef tokenset_methods[] = {
    {"add", (PyCFunction)tokenset_add, METH_O, "Add a token."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods tokenset_as_sequence = {
    .sq_length = (lenfunc)tokenset_len,
    .sq_contains = (objobjproc)tokenset_contains,
};

static PyTypeObject TokenSetType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "monitor._fold.TokenSet",
    .tp_doc = "TokenSet(tokens=()): a set of str that tokens() tests in place; add, in, len.",
    .tp_basicsize = sizeof(TokenSet),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = tokenset_new,
    .tp_init = (initproc)tokenset_init,
    .tp_dealloc = (destructor)tokenset_dealloc,
    .tp_methods = tokenset_methods,
    .tp_as_sequence = &tokenset_as_sequence,
};

/* Whether data[start:end], or it without one of its characters, is in a TokenSet: the
 * one-deletion variants are hashed and looked up where they stand, no str made of each. */
INLINE int near_chars(TokenSet *set, int kind, const void *data, Py_ssize_t start,
                      Py_ssize_t end) {
    uint64_t whole = hash_chars(kind, data, start, end);
    if (bloom_may_hold(set, whole) && find_slot(set, whole, kind, data, start, end, -1)->hash) {
        return 1;
    }
    uint64_t prefix = 1469598103934665603ULL; /* hash_chars of data[start:gap] */
    for (Py_ssize_t gap = start; gap < end; gap++) {
        uint64_t hash = prefix;
        for (Py_ssize_t k = gap + 1; k < end; k++) {
            hash ^= PyUnicode_READ(kind, data, k);
            hash *= 1099511628211ULL;
        }
        hash = hash ? hash : 1;
        if (bloom_may_hold(set, hash) && find_slot(set, hash, kind, data, start, end, gap)->hash) {
            return 1;
        }
        prefix ^= PyUnicode_READ(kind, data, gap);
        prefix *= 1099511628211ULL;
    }
    return 0;
}

static PyObject *near(PyObject *self, PyObject *args) {
    PyObject *token;
    TokenSet *set;
    if (!PyArg_ParseTuple(args, "UO!:near", &token, &TokenSetType, &set)) {
        return NULL;
    }
    return PyBool_FromLong(near_chars(set, PyUnicode_KIND(token), PyUnicode_DATA(token), 0,
                                      PyUnicode_GET_LENGTH(token)));
}

/* Whether the first argument is a str of one byte a character (a haystack in ASCII, the
 * usual): the scans below are compiled for it apart, its characters read without a switch. */
static int one_byte_hay(PyObject *args) {
    PyObject *hay = PyTuple_GET_SIZE(args) ? PyTuple_GET_ITEM(args, 0) : NULL;
    return hay != NULL && PyUnicode_Check(hay) && PyUnicode_KIND(hay) == PyUnicode_1BYTE_KIND;
}

/* Whether the token before data[start:end] or the one after it is in company. */
INLINE int in_company(TokenSet *company, int kind, const void *data, Py_ssize_t length,
                      Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t left = start - 1; /* the space before the token */
    while (left > 0 && PyUnicode_READ(kind, data, left - 1) != ' ') {
        left--;
    }
    if (left < start - 1 && find_slot(company, hash_chars(kind, data, left, start - 1), kind, data,
                                      left, start - 1, -1)->hash != 0) {
        return 1;
    }
    Py_ssize_t right = end + 1; /* past the space after the token */
    while (right < length && PyUnicode_READ(kind, data, right) != ' ') {
        right++;
    }
    return right > end + 1
        && find_slot(company, hash_chars(kind, data, end + 1, right), kind, data, end + 1, right,
                     -1)->hash != 0;
}

INLINE PyObject *tokens_in(PyObject *args, int one_byte) {
    PyObject *hay;
    TokenSet *skip;
    Py_ssize_t shortest;
    Py_ssize_t longest;
    TokenSet *keys = NULL;
    TokenSet *lonely = NULL;
    TokenSet *company = NULL;
    if (!PyArg_ParseTuple(args, "UO!nn|O!O!O!:tokens", &hay, &TokenSetType, &skip, &shortest,
                          &longest, &TokenSetType, &keys, &TokenSetType, &lonely,
                          &TokenSetType, &company)) {
        return NULL;
    }
    if ((lonely == NULL) != (company == NULL)) {
        PyErr_SetString(PyExc_TypeError, "tokens() takes lonely and company together");
        return NULL;
    }
    PyObject *found = PyList_New(0);
    if (found == NULL) {
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(hay);
    int kind = one_byte ? PyUnicode_1BYTE_KIND : PyUnicode_KIND(hay);
    const void *data = PyUnicode_DATA(hay);
    Py_ssize_t start = 0;
    while (start < length) {
        while (start < length && PyUnicode_READ(kind, data, start) == ' ') {
            start++;
        }
        Py_ssize_t end = start;
        int digits = 1;
        uint64_t hash = 1469598103934665603ULL; /* hash_chars, while scanning */
        while (end < length) {
            Py_UCS4 c = PyUnicode_READ(kind, data, end);
            if (c == ' ') {
                break;
            }
            if (c < '0' || c > '9') {
                digits = 0;
            }
            hash ^= c;
            hash *= 1099511628211ULL;
            end++;
        }
        Py_ssize_t n = end - start;
        if (n >= shortest && n <= longest && !digits) {
            hash = hash ? hash : 1;
            if (find_slot(skip, hash, kind, data, start, end, -1)->hash != 0) {
                start = end; /* known: not a candidate */
                continue;
            }
            if (keys != NULL && !near_chars(keys, kind, data, start, end)) {
                if (tokenset_add_chars(skip, kind, data, start, end) < 0) {
                    Py_DECREF(found);
                    return NULL;
                }
                start = end;
                continue;
            }
            if (lonely != NULL && find_slot(lonely, hash, kind, data, start, end, -1)->hash != 0
                && !in_company(company, kind, data, length, start, end)) {
                start = end;
                continue;
            }
            PyObject *token = PyUnicode_Substring(hay, start, end);
            PyObject *pair = token == NULL ? NULL : Py_BuildValue("(nN)", start, token);
            if (pair == NULL || PyList_Append(found, pair) < 0) {
                Py_XDECREF(pair);
                Py_DECREF(found);
                return NULL;
            }
            Py_DECREF(pair);
        }
        start = end;
    }
    return found;
}

static PyObject *tokens(PyObject *self, PyObject *args) {
    return one_byte_hay(args) ? tokens_in(args, 1) : tokens_in(args, 0);
}

/* named(hay, skip, shortest, longest, heads, head, text, origins) -> [(start, token)]
 * The tokens of tokens(hay, skip, shortest, longest) whose first `head` characters are in
 * heads (a TokenSet, tested first: it is small) and whose character in the original text
 * (text[origins[start]]) is a capital: the candidates of the matcher's inflection pass. */
INLINE PyObject *named_in(PyObject *args, int one_byte) {
    PyObject *hay;
    TokenSet *skip;
    Py_ssize_t shortest;
    Py_ssize_t longest;
    TokenSet *heads;
    Py_ssize_t head;
    PyObject *text;
    Py_buffer origins;
    if (!PyArg_ParseTuple(args, "UO!nnO!nUy*:named", &hay, &TokenSetType, &skip, &shortest,
                          &longest, &TokenSetType, &heads, &head, &text, &origins)) {
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(hay);
    if (head < 1 || head > shortest || origins.len != length * (Py_ssize_t)sizeof(int32_t)) {
        PyBuffer_Release(&origins);
        PyErr_SetString(PyExc_ValueError,
                        "named() takes 1 <= head <= shortest and one origin a character");
        return NULL;
    }
    const int32_t *origin = origins.buf;
    int text_kind = PyUnicode_KIND(text);
    const void *text_data = PyUnicode_DATA(text);
    Py_ssize_t text_length = PyUnicode_GET_LENGTH(text);
    PyObject *found = PyList_New(0);
    if (found == NULL) {
        PyBuffer_Release(&origins);
        return NULL;
    }
    int kind = one_byte ? PyUnicode_1BYTE_KIND : PyUnicode_KIND(hay);
    const void *data = PyUnicode_DATA(hay);
    Py_ssize_t start = 0;
    while (start < length) {
        while (start < length && PyUnicode_READ(kind, data, start) == ' ') {
            start++;
        }
        Py_ssize_t end = start;
        while (end < length && PyUnicode_READ(kind, data, end) != ' ') {
            end++;
        }
        Py_ssize_t n = end - start;
        if (n < shortest || n > longest) {
            start = end;
            continue;
        }
        uint64_t hash = hash_chars(kind, data, start, start + head);
        if (!bloom_may_hold(heads, hash)
            || find_slot(heads, hash, kind, data, start, start + head, -1)->hash == 0) {
            start = end;
            continue;
        }
        int32_t at = origin[start];
        if (at < 0 || at >= text_length
            || !Py_UNICODE_ISUPPER(PyUnicode_READ(text_kind, text_data, at))) {
            start = end;
            continue;
        }
        int digits = 1;
        for (Py_ssize_t k = start; k < end && digits; k++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, k);
            digits = c >= '0' && c <= '9';
        }
        if (digits || find_slot(skip, hash_chars(kind, data, start, end), kind, data, start,
                                end, -1)->hash != 0) {
            start = end;
            continue;
        }
        PyObject *token = PyUnicode_Substring(hay, start, end);
        PyObject *pair = token == NULL ? NULL : Py_BuildValue("(nN)", start, token);
        if (pair == NULL || PyList_Append(found, pair) < 0) {
            Py_XDECREF(pair);
            Py_DECREF(found);
            PyBuffer_Release(&origins);
            return NULL;
        }
        Py_DECREF(pair);
        start = end;
    }
    PyBuffer_Release(&origins);
    return found;
}

static PyObject *named(PyObject *self, PyObject *args) {
    return one_byte_hay(args) ? named_in(args, 1) : named_in(args, 0);
}

/* holds(hashes, value) -> bool: whether a sorted buffer of native uint64 holds value (the
 * word lists' hashes, monitor.wordlists): a bisection without a Python int per probe. */
static PyObject *holds(PyObject *self, PyObject *args) {
    Py_buffer hashes;
    PyObject *number;
    if (!PyArg_ParseTuple(args, "y*O!:holds", &hashes, &PyLong_Type, &number)) {
        return NULL;
    }
    unsigned long long value = PyLong_AsUnsignedLongLong(number);
    if (value == (unsigned long long)-1 && PyErr_Occurred()) {
        PyBuffer_Release(&hashes);
        return NULL;
    }
    if (hashes.len % (Py_ssize_t)sizeof(uint64_t)) {
        PyBuffer_Release(&hashes);
        PyErr_SetString(PyExc_ValueError, "holds() takes whole 64-bit hashes");
        return NULL;
    }
    const uint64_t *items = hashes.buf;
    Py_ssize_t count = hashes.len / (Py_ssize_t)sizeof(uint64_t);
    Py_ssize_t low = 0;
    Py_ssize_t high = count; /* items[low:high] may hold it */
    /* The hashes are uniform: a few interpolation steps (a cache miss each, where bisection
     * takes twenty in megabytes of hashes), then bisection of what is left. */
    for (int step = 0; step < 4 && high - low > 64; step++) {
        uint64_t first = items[low], last = items[high - 1];
        if (value <= first || value > last) {
            high = value <= first ? low + 1 : high;
            low = value > last ? high : low;
            break;
        }
        Py_ssize_t guess = low + (Py_ssize_t)((double)(value - first) / (double)(last - first)
                                              * (double)(high - 1 - low));
        guess = guess < low ? low : guess >= high ? high - 1 : guess;
        if (items[guess] < value) {
            low = guess + 1;
        } else {
            high = guess + 1;
        }
    }
    while (low < high) { /* bisect_left */
        Py_ssize_t middle = low + (high - low) / 2;
        if (items[middle] < value) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    int found = low < count && items[low] == value;
    PyBuffer_Release(&hashes);
    return PyBool_FromLong(found);
}

/* runs(hay, keys, prefixes, longest) -> [(ordinal, start, end)]
 * Every run of 1..longest whole tokens of a haystack that is in keys (a TokenSet): the
 * ordinal of the key in keys, the haystack index of the space before the run and the one
 * after the space after it.  prefixes holds the runs of tokens that begin some key (the
 * first tokens, the first two...): a run that is none is not extended. */
INLINE PyObject *runs_in(PyObject *args, int one_byte) {
    PyObject *hay;
    TokenSet *keys;
    TokenSet *prefixes;
    Py_ssize_t longest;
    if (!PyArg_ParseTuple(args, "UO!O!n:runs", &hay, &TokenSetType, &keys, &TokenSetType,
                          &prefixes, &longest)) {
        return NULL;
    }
    PyObject *found = PyList_New(0);
    if (found == NULL) {
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(hay);
    int kind = one_byte ? PyUnicode_1BYTE_KIND : PyUnicode_KIND(hay);
    const void *data = PyUnicode_DATA(hay);
    for (Py_ssize_t space = 0; space < length; space++) {
        if (PyUnicode_READ(kind, data, space) != ' ') {
            continue;
        }
        Py_ssize_t begin = space + 1;
        Py_ssize_t end = begin;
        Py_ssize_t next = begin; /* the space after the first token: the next run's start */
        uint64_t hash = 1469598103934665603ULL; /* hash_chars of hay[begin:end], as it grows */
        for (Py_ssize_t count = 0; count < longest; count++) {
            if (count) { /* the space between two tokens */
                hash ^= ' ';
                hash *= 1099511628211ULL;
                end++;
            }
            Py_ssize_t token = end;
            while (end < length && PyUnicode_READ(kind, data, end) != ' ') {
                hash ^= PyUnicode_READ(kind, data, end);
                hash *= 1099511628211ULL;
                end++;
            }
            if (end == token || end >= length) {
                break; /* no token, or none closed by a space */
            }
            next = count ? next : end;
            uint64_t h = hash ? hash : 1;
            if (bloom_may_hold(keys, h)) {
                Slot *slot = find_slot(keys, h, kind, data, begin, end, -1);
                if (slot->hash != 0) {
                    PyObject *hit = Py_BuildValue("(nnn)", (Py_ssize_t)slot->ordinal, space,
                                                  end + 1);
                    if (hit == NULL || PyList_Append(found, hit) < 0) {
                        Py_XDECREF(hit);
                        Py_DECREF(found);
                        return NULL;
                    }
                    Py_DECREF(hit);
                }
            }
            if (!bloom_may_hold(prefixes, h)
                || find_slot(prefixes, h, kind, data, begin, end, -1)->hash == 0) {
                break;
            }
        }
        space = next - 1; /* the loop goes on at that space */
    }
    return found;
}

static PyObject *runs(PyObject *self, PyObject *args) {
    return one_byte_hay(args) ? runs_in(args, 1) : runs_in(args, 0);
}

static PyMethodDef methods[] = {
    {"fold", fold, METH_VARARGS,
     "fold(text, fold_char) -> (hay, origins): the haystack and its int32 offset map."},
    {"tokens", tokens, METH_VARARGS,
     "tokens(hay, skip, shortest, longest[, keys[, lonely, company]]) -> [(start, token)]."},
    {"named", named, METH_VARARGS,
     "named(hay, skip, shortest, longest, heads, head, text, origins) -> [(start, token)]."},
    {"holds", holds, METH_VARARGS,
     "holds(hashes, value) -> whether a sorted buffer of uint64 holds value."},
    {"runs", runs, METH_VARARGS,
     "runs(hay, keys, prefixes, longest) -> [(ordinal, start, end)]: runs of tokens in keys."},
    {"near", near, METH_VARARGS,
     "near(token, keys) -> whether token, or token without one character, is in keys."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "monitor._fold", "Text folding for the matcher, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__fold(void) {
    for (int c = 0; c < 128; c++) {
        ascii_fold[c] = (c >= 'A' && c <= 'Z') ? (Py_UCS1)(c + 32)
            : ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? (Py_UCS1)c : ' ';
    }
    if (PyType_Ready(&TokenSetType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&TokenSetType);
    if (PyModule_AddObject(m, "TokenSet", (PyObject *)&TokenSetType) < 0) {
        Py_DECREF(&TokenSetType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
