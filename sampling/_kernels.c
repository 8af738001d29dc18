/* Compiled inner loops of frame validation: one pass over a column's bytes instead of
 * the dozen whole-column numpy passes (and their temporaries) that sampling/phones.py and
 * sampling/text.py use when this module is not built. The rules themselves (which bytes
 * are digits or separators, the network codes, the 2018 renumbering table) come from
 * Python as look-up tables, so they are written down once; the tests check that both
 * paths give the same answers. Also the CSV split into columns and the UTF-8 check, whose
 * fallbacks are pyarrow's reader and its check (tests compare them with Python's csv
 * module and decoder).
 *
 * Arrays arrive through the buffer protocol (numpy arrays, pyarrow buffers); loops run
 * without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { PHONE_OK = 0, PHONE_MISSING = 1, PHONE_INVALID = 2, PHONE_IRREGULAR = 4 };
/* A state's bit 3 marks a cell listing several numbers ("0912..., 0987..."). */
enum { PHONE_SEVERAL = 8 };
enum { BYTE_OTHER = 0, BYTE_DIGIT = 1, BYTE_SEPARATOR = 2, BYTE_PLUS = 3, BYTE_LIST = 4 };

static const int64_t POW10[19] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL, 100000000LL,
    1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL, 10000000000000LL,
    100000000000000LL, 1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
    1000000000000000000LL,
};

typedef struct {
    const uint8_t *classes;     /* [256] BYTE_* per byte value */
    const uint8_t *mobile;      /* [100] current two-digit mobile network codes */
    const int64_t *new_prefix;  /* [1000] old three-digit mobile code -> new code, or 0 */
} PhoneRules;

/* The national significant number (no leading 0, no 84) of a cell's digits, or -1.
 * value: the digits as a number; length: how many digits; zeros: how many of them lead;
 * lead2: the first two significant digits. *digits receives the result's digit count.
 * (No division by a variable: they cost more than the rest of the scan.) */
static int64_t national_number(int64_t value, int length, int zeros, int64_t lead2, int plus,
                               int *digits) {
    int significant = length - zeros;
    int starts_84 = significant >= 3 && lead2 == 84;
    int international =
        starts_84 && ((plus && zeros == 0) || (!plus && zeros == 2) ||
                      (!plus && zeros == 0 && significant >= 11));
    if (value == 0) return -1;
    if (international) { /* "+84 (0) 912...": the rest may itself start with a 0 */
        int64_t rest = value - 84 * POW10[significant - 2];
        int count = 0;
        while (count < 19 && rest >= POW10[count]) count++;
        *digits = count;
        return rest;
    }
    *digits = significant;
    if (!plus && zeros == 1) return value;
    if (!plus && zeros == 0 && (significant == 9 || significant == 10)) return value;
    return -1;
}

/* The current national number (old mobile codes renumbered), or -1 when invalid. */
static int64_t current_number(int64_t national, int digits, const PhoneRules *rules) {
    if (national <= 0) return -1;
    if (digits == 9) {
        int64_t code = national / 10000000LL;
        if (rules->mobile[code > 99 ? 99 : code]) return national;
        if (national / 100000000LL == 2) return national;
    } else if (digits == 10) {
        int64_t code = national / 10000000LL;
        int64_t renumbered = rules->new_prefix[code > 999 ? 999 : code];
        if (renumbered > 0) return renumbered * 10000000LL + national % 10000000LL;
        if (national / 1000000000LL == 2) return national;
    }
    return -1;
}

static void scan_phones(Py_ssize_t n, const int64_t *offsets, const uint8_t *data,
                        const uint8_t *valid, int point_zero, const PhoneRules *rules,
                        int64_t *national_out, int8_t *state_out) {
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t start = offsets[i], end = offsets[i + 1];
        national_out[i] = -1;
        if ((valid && !valid[i]) || end <= start) {
            state_out[i] = PHONE_MISSING;
            continue;
        }
        /* "912345678.0": went through a float column; the slow path cuts the ".0". */
        if (point_zero && end - start >= 3 && data[end - 1] == '0' && data[end - 2] == '.') {
            state_out[i] = PHONE_IRREGULAR;
            continue;
        }
        int64_t value = 0, lead2 = 0, list_at = -1;
        int length = 0, zeros = 0, plus = 0, unusable = 0, irregular = 0, dot = 0;
        for (int64_t p = start; p < end; p++) {
            uint8_t byte = data[p];
            unsigned digit = (unsigned)byte - '0';
            if (digit < 10) { /* most bytes: classes[] marks exactly '0'..'9' as digits */
                if (length < 18) {
                    value = value * 10 + digit;
                    zeros += value == 0;
                    if (lead2 == 0 && value >= 10) lead2 = value;
                }
                length++;
                continue;
            }
            uint8_t kind = rules->classes[byte];
            if (kind == BYTE_SEPARATOR) {
                dot |= byte == '.';
            } else if (kind == BYTE_PLUS) {
                if (p == start) plus = 1;
                else unusable = 1;
            } else if (kind == BYTE_LIST) {
                list_at = p;
                break;
            } else {
                irregular = 1;
                break;
            }
        }
        /* After a list character only the first number counts, but a word or other
         * character anywhere sends the cell to the slow path. */
        for (int64_t p = list_at + 1; list_at >= 0 && p < end && !irregular; p++)
            irregular = rules->classes[data[p]] == BYTE_OTHER;
        /* A list whose first number holds a dot may be "912345678.0, ...": slow path. */
        if (irregular || (list_at >= 0 && dot)) {
            state_out[i] = PHONE_IRREGULAR;
            continue;
        }
        if (length == 0 || length > 18) unusable = 1;
        int digits = 0;
        int64_t number = -1;
        if (!unusable) {
            int64_t national = national_number(value, length, zeros, lead2, plus, &digits);
            number = current_number(national, digits, rules);
        }
        national_out[i] = number;
        state_out[i] = (number >= 0 ? PHONE_OK : PHONE_INVALID) | (list_at >= 0 ? PHONE_SEVERAL : 0);
    }
}

static int check_size(Py_buffer *view, Py_ssize_t items, Py_ssize_t itemsize, const char *name) {
    if (view->len < items * itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: buffer of %zd bytes, need %zd", name, view->len,
                     items * itemsize);
        return -1;
    }
    return 0;
}

static inline uint64_t splitmix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* How many strings a large_string array's offsets buffer describes; -1 with an exception
 * when the offsets do not fit its data buffer. */
static Py_ssize_t string_count(Py_buffer *offsets, Py_buffer *data) {
    Py_ssize_t n = offsets->len / 8 - 1;
    const int64_t *ends = offsets->buf;
    if (n < 0 || (n > 0 && (ends[0] < 0 || ends[n] < ends[0] || ends[n] > data->len))) {
        PyErr_SetString(PyExc_ValueError, "offsets do not fit the data buffer");
        return -1;
    }
    return n;
}

/* hash_strings of one string: 8-byte words folded with splitmix64, seeded with the
 * length (little-endian hosts). */
static uint64_t hash_bytes(const uint8_t *bytes, int64_t length) {
    uint64_t hash = (uint64_t)length * 0x9E3779B97F4A7C15ULL;
    for (int64_t word = 0; word < length; word += 8) {
        uint64_t chunk = 0;
        memcpy(&chunk, bytes + word, (size_t)(length - word < 8 ? length - word : 8));
        hash = splitmix64(hash ^ chunk);
    }
    return hash;
}

PyDoc_STRVAR(phone_scan_doc,
             "phone_scan(offsets, data, valid, classes, mobile, new_prefix, point_zero, "
             "national_out, state_out)\n\n"
             "Per cell of a large_string array: the current national number (or -1) and a "
             "state: 0 valid, 1 missing, 2 invalid, 4 irregular (other characters, or a "
             "trailing '.0' when point_zero: left to the slow path), plus 8 when the cell "
             "lists several numbers (classes 4: ';', ',', '/', '|'; the first one is read). "
             "valid is a uint8 mask or None.");

static PyObject *phone_scan(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, classes, mobile, new_prefix, national_out, state_out;
    PyObject *valid_object;
    int point_zero;
    if (!PyArg_ParseTuple(args, "y*y*Oy*y*y*pw*w*", &offsets, &data, &valid_object, &classes,
                          &mobile, &new_prefix, &point_zero, &national_out, &state_out))
        return NULL;
    Py_buffer valid = {0};
    int has_valid = valid_object != Py_None;
    PyObject *result = NULL;
    if (has_valid && PyObject_GetBuffer(valid_object, &valid, PyBUF_SIMPLE) < 0) goto done;
    Py_ssize_t n = string_count(&offsets, &data);
    if (n < 0 || check_size(&classes, 256, 1, "classes") || check_size(&mobile, 100, 1, "mobile") ||
        check_size(&new_prefix, 1000, 8, "new_prefix") ||
        check_size(&national_out, n, 8, "national_out") ||
        check_size(&state_out, n, 1, "state_out") || (has_valid && check_size(&valid, n, 1, "valid")))
        goto done;
    PhoneRules rules = {classes.buf, mobile.buf, new_prefix.buf};
    Py_BEGIN_ALLOW_THREADS
    scan_phones(n, offsets.buf, data.buf, has_valid ? valid.buf : NULL, point_zero, &rules,
                national_out.buf, state_out.buf);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    if (has_valid && valid.obj) PyBuffer_Release(&valid);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&classes);
    PyBuffer_Release(&mobile);
    PyBuffer_Release(&new_prefix);
    PyBuffer_Release(&national_out);
    PyBuffer_Release(&state_out);
    return result;
}

PyDoc_STRVAR(zero_prefixed_doc,
             "zero_prefixed(numbers, offsets_out, data_out) -> bytes written\n\n"
             "'0' followed by the digits of each number >= 0 (an empty cell for -1), written "
             "as large_string offsets (n + 1 int64) and data; ValueError when data is too "
             "small.");

static const char DIGIT_PAIRS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static PyObject *zero_prefixed(PyObject *self, PyObject *args) {
    Py_buffer numbers, offsets_out, data_out;
    if (!PyArg_ParseTuple(args, "y*w*w*", &numbers, &offsets_out, &data_out)) return NULL;
    Py_ssize_t n = numbers.len / 8;
    int64_t written = 0;
    PyObject *result = NULL;
    int overflow = 0;
    if (check_size(&offsets_out, n + 1, 8, "offsets_out")) goto done;
    const int64_t *values = numbers.buf;
    int64_t *offsets = offsets_out.buf;
    uint8_t *data = data_out.buf;
    Py_BEGIN_ALLOW_THREADS
    offsets[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t value = values[i];
        if (value >= 0) {
            /* Two digits per division: written backwards from the end of digits. */
            char digits[20];
            int start = 20;
            while (value >= 100) {
                int pair = (int)(value % 100);
                value /= 100;
                start -= 2;
                memcpy(digits + start, DIGIT_PAIRS + 2 * pair, 2);
            }
            if (value >= 10) {
                start -= 2;
                memcpy(digits + start, DIGIT_PAIRS + 2 * value, 2);
            } else {
                digits[--start] = (char)('0' + value);
            }
            int length = 20 - start;
            if (written + 1 + length > data_out.len) {
                overflow = 1;
                break;
            }
            data[written++] = '0';
            memcpy(data + written, digits + start, (size_t)length);
            written += length;
        }
        offsets[i + 1] = written;
    }
    Py_END_ALLOW_THREADS
    if (overflow) PyErr_SetString(PyExc_ValueError, "data_out is too small");
    else result = PyLong_FromLongLong(written);
done:
    PyBuffer_Release(&numbers);
    PyBuffer_Release(&offsets_out);
    PyBuffer_Release(&data_out);
    return result;
}


PyDoc_STRVAR(repeated_doc,
             "repeated(keys, among, out)\n\n"
             "out[i] = 1 when keys[i] (uint64) occurs more than once among the rows marked "
             "in among (a uint8 mask, or None for all rows), else 0; an open-addressing hash "
             "table of row numbers, about four slots per two keys.");

static PyObject *repeated(PyObject *self, PyObject *args) {
    Py_buffer keys, out, among = {0};
    PyObject *among_object;
    if (!PyArg_ParseTuple(args, "y*Ow*", &keys, &among_object, &out)) return NULL;
    Py_ssize_t n = keys.len / 8;
    PyObject *result = NULL;
    int has_among = among_object != Py_None;
    if (has_among && PyObject_GetBuffer(among_object, &among, PyBUF_SIMPLE) < 0) goto done;
    if (check_size(&out, n, 1, "out") || (has_among && check_size(&among, n, 1, "among")))
        goto done;
    if (n >= INT32_MAX) { /* row numbers are stored as int32: half the table's cache misses */
        PyErr_SetString(PyExc_ValueError, "repeated: too many keys");
        goto done;
    }
    uint64_t size = 16;
    while (size < 2 * (uint64_t)n) size <<= 1;
    int32_t *slots = malloc(size * sizeof(int32_t));
    if (!slots) {
        PyErr_NoMemory();
        goto done;
    }
    const uint64_t *values = keys.buf;
    const uint8_t *considered = has_among ? among.buf : NULL;
    uint8_t *shared = out.buf;
    Py_BEGIN_ALLOW_THREADS
    memset(slots, 0xFF, size * sizeof(int32_t)); /* -1: empty */
    memset(shared, 0, n);
    uint64_t mask = size - 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (considered && !considered[i]) continue;
        uint64_t key = values[i];
        uint64_t slot = splitmix64(key) & mask;
        for (;;) {
            int32_t row = slots[slot];
            if (row < 0) {
                slots[slot] = (int32_t)i;
                break;
            }
            if (values[row] == key) {
                shared[i] = 1;
                shared[row] = 1;
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    Py_END_ALLOW_THREADS
    free(slots);
    result = Py_None;
    Py_INCREF(result);
done:
    if (has_among && among.obj) PyBuffer_Release(&among);
    PyBuffer_Release(&keys);
    PyBuffer_Release(&out);
    return result;
}

PyDoc_STRVAR(hash_strings_doc,
             "hash_strings(offsets, data, out)\n\n"
             "A 64-bit hash of each string of a large_string array (equal strings, equal "
             "hashes): 8-byte words folded with splitmix64, seeded with the length.");

static PyObject *hash_strings(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, out;
    if (!PyArg_ParseTuple(args, "y*y*w*", &offsets, &data, &out)) return NULL;
    Py_ssize_t n = string_count(&offsets, &data);
    PyObject *result = NULL;
    if (n < 0 || check_size(&out, n, 8, "out")) goto done;
    const int64_t *ends = offsets.buf;
    const uint8_t *bytes = data.buf;
    uint64_t *hashes = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) hashes[i] = hash_bytes(bytes + ends[i], ends[i + 1] - ends[i]);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&out);
    return result;
}

/* Index of the row holding byte position `position` (offsets ascending, n rows). */
static Py_ssize_t row_of(const int64_t *offsets, Py_ssize_t n, int64_t position) {
    Py_ssize_t low = 0, high = n; /* offsets[low] <= position < offsets[high] */
    while (high - low > 1) {
        Py_ssize_t middle = low + (high - low) / 2;
        if (offsets[middle] <= position) low = middle;
        else high = middle;
    }
    return low;
}

PyDoc_STRVAR(rows_with_bytes_doc,
             "rows_with_bytes(offsets, data, table, out)\n\n"
             "out[i] = 1 when string i of a large_string array holds a byte b with "
             "table[b] != 0. A few wanted bytes are found with memchr (usually absent: a "
             "scan at memory speed); more are looked up byte by byte, stopping at the first "
             "hit in a row.");

static void rows_with_few_bytes(Py_ssize_t n, const int64_t *offsets, const uint8_t *data,
                                const uint8_t *wanted, int count, uint8_t *out) {
    int64_t begin = offsets[0], end = offsets[n];
    for (int k = 0; k < count; k++) {
        int64_t from = begin;
        while (from < end) {
            const uint8_t *hit = memchr(data + from, wanted[k], (size_t)(end - from));
            if (!hit) break;
            Py_ssize_t row = row_of(offsets, n, hit - data);
            out[row] = 1;
            from = offsets[row + 1]; /* the rest of this row cannot change the answer */
        }
    }
}

static PyObject *rows_with_bytes(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, table, out;
    if (!PyArg_ParseTuple(args, "y*y*y*w*", &offsets, &data, &table, &out)) return NULL;
    Py_ssize_t n = string_count(&offsets, &data);
    PyObject *result = NULL;
    if (n < 0 || check_size(&table, 256, 1, "table") || check_size(&out, n, 1, "out")) goto done;
    const int64_t *ends = offsets.buf;
    const uint8_t *lookup = table.buf, *bytes = data.buf;
    uint8_t *marked = out.buf, wanted[256];
    int count = 0;
    for (int b = 0; b < 256; b++)
        if (lookup[b]) wanted[count++] = (uint8_t)b;
    Py_BEGIN_ALLOW_THREADS
    memset(marked, 0, n);
    if (n > 0 && count <= 4) {
        rows_with_few_bytes(n, ends, bytes, wanted, count, marked);
    } else {
        for (Py_ssize_t i = 0; i < n; i++) {
            for (int64_t p = ends[i]; p < ends[i + 1]; p++) {
                if (lookup[bytes[p]]) {
                    marked[i] = 1;
                    break;
                }
            }
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&table);
    PyBuffer_Release(&out);
    return result;
}

PyDoc_STRVAR(trim_candidates_doc,
             "trim_candidates(offsets, data, first_table, last_table, out)\n\n"
             "out[i] = 1 when non-empty string i may start or end with whitespace: its first "
             "byte is in first_table, its last byte in last_table, or it ends with U+00A0 "
             "(C2 A0) or a three-byte character led by E2 or E3 (U+2000.., U+3000).");

static PyObject *trim_candidates(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, first_table, last_table, out;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*", &offsets, &data, &first_table, &last_table, &out))
        return NULL;
    Py_ssize_t n = string_count(&offsets, &data);
    PyObject *result = NULL;
    if (n < 0 || check_size(&first_table, 256, 1, "first_table") ||
        check_size(&last_table, 256, 1, "last_table") || check_size(&out, n, 1, "out"))
        goto done;
    const int64_t *ends = offsets.buf;
    const uint8_t *first = first_table.buf, *last = last_table.buf, *bytes = data.buf;
    uint8_t *maybe = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t start = ends[i], stop = ends[i + 1];
        uint8_t answer = 0;
        if (stop > start) {
            uint8_t final = bytes[stop - 1];
            answer = first[bytes[start]] | last[final];
            if (final >= 0x80) {
                answer |= stop - start >= 2 && bytes[stop - 2] == 0xC2 && final == 0xA0;
                answer |= stop - start >= 3 && (bytes[stop - 3] == 0xE2 || bytes[stop - 3] == 0xE3);
            }
        }
        maybe[i] = answer != 0;
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&first_table);
    PyBuffer_Release(&last_table);
    PyBuffer_Release(&out);
    return result;
}

PyDoc_STRVAR(splice_doc,
             "splice(offsets, data, replaced, new_offsets, new_data, out_offsets, out_data) "
             "-> bytes written\n\n"
             "A large_string array's offsets and data with the rows marked in replaced (uint8) "
             "taken, in order, from the strings new_offsets/new_data (one per marked row).");

static PyObject *splice(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, replaced, new_offsets, new_data, out_offsets, out_data;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*w*w*", &offsets, &data, &replaced, &new_offsets,
                          &new_data, &out_offsets, &out_data))
        return NULL;
    PyObject *result = NULL;
    int bad = 0;
    Py_ssize_t n = string_count(&offsets, &data), m = -1;
    if (n >= 0) m = string_count(&new_offsets, &new_data);
    if (n < 0 || m < 0 || check_size(&replaced, n, 1, "replaced") ||
        check_size(&out_offsets, n + 1, 8, "out_offsets"))
        goto done;
    const int64_t *ends = offsets.buf, *new_ends = new_offsets.buf;
    const uint8_t *old_bytes = data.buf, *new_bytes = new_data.buf, *marked = replaced.buf;
    int64_t *out_ends = out_offsets.buf;
    uint8_t *out = out_data.buf;
    int64_t written = 0, capacity = out_data.len;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t next = 0;
    out_ends[0] = 0;
    for (Py_ssize_t i = 0; i < n && !bad; i++) {
        const uint8_t *source;
        int64_t length;
        if (marked[i]) {
            if (next >= m) {
                bad = 1;
                break;
            }
            source = new_bytes + new_ends[next];
            length = new_ends[next + 1] - new_ends[next];
            next++;
        } else {
            source = old_bytes + ends[i];
            length = ends[i + 1] - ends[i];
        }
        if (written + length > capacity) {
            bad = 1;
            break;
        }
        memcpy(out + written, source, (size_t)length);
        written += length;
        out_ends[i + 1] = written;
    }
    if (next != m) bad = 1;
    Py_END_ALLOW_THREADS
    if (bad) PyErr_SetString(PyExc_ValueError, "splice: replacements do not match the rows");
    else result = PyLong_FromLongLong(written);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&replaced);
    PyBuffer_Release(&new_offsets);
    PyBuffer_Release(&new_data);
    PyBuffer_Release(&out_offsets);
    PyBuffer_Release(&out_data);
    return result;
}

PyDoc_STRVAR(folded_hashes_doc,
             "folded_hashes(offsets, data, out, wide)\n\n"
             "hash_strings of each string with spaces removed and a-z upper-cased (dossier "
             "codes compared ignoring case and spaces). Strings holding a non-ASCII byte are "
             "marked in wide (uint8) and left for Unicode folding.");

static PyObject *folded_hashes(PyObject *self, PyObject *args) {
    Py_buffer offsets, data, out, wide;
    if (!PyArg_ParseTuple(args, "y*y*w*w*", &offsets, &data, &out, &wide)) return NULL;
    Py_ssize_t n = string_count(&offsets, &data);
    PyObject *result = NULL;
    if (n < 0 || check_size(&out, n, 8, "out") || check_size(&wide, n, 1, "wide")) goto done;
    const int64_t *ends = offsets.buf;
    const uint8_t *bytes = data.buf;
    uint64_t *hashes = out.buf;
    uint8_t *unfolded = wide.buf;
    Py_BEGIN_ALLOW_THREADS
    /* Per byte: 1 a space, 2 a lower-case letter, 4 not ASCII. */
    uint8_t kind[256] = {0};
    kind[' '] = 1;
    for (int b = 'a'; b <= 'z'; b++) kind[b] = 2;
    for (int b = 0x80; b < 256; b++) kind[b] = 4;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t start = ends[i], stop = ends[i + 1], length = stop - start;
        uint8_t seen = 0;
        for (int64_t p = start; p < stop; p++) seen |= kind[bytes[p]];
        unfolded[i] = (seen & 4) != 0;
        if (seen & 4) {
            hashes[i] = 0;
            continue;
        }
        if (seen & 1) {
            length = 0;
            for (int64_t p = start; p < stop; p++) length += bytes[p] != ' ';
        }
        if (!seen) { /* already folded (most codes) */
            hashes[i] = hash_bytes(bytes + start, length);
        } else { /* the same rounds as hash_bytes over the folded text */
            uint64_t hash = (uint64_t)length * 0x9E3779B97F4A7C15ULL;
            uint64_t word = 0;
            int filled = 0;
            for (int64_t p = start; p < stop; p++) {
                uint8_t byte = bytes[p];
                if (byte == ' ') continue;
                if (kind[byte] == 2) byte -= 'a' - 'A';
                word |= (uint64_t)byte << (8 * filled);
                if (++filled == 8) {
                    hash = splitmix64(hash ^ word);
                    word = 0;
                    filled = 0;
                }
            }
            if (filled) hash = splitmix64(hash ^ word);
            hashes[i] = hash;
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&out);
    PyBuffer_Release(&wide);
    return result;
}

/* ---- UTF-8 validation (Keiser and Lemire 2021, "Validating UTF-8 in less than one
 * instruction per byte", Software: Practice and Experience 51(5): the "lookup" algorithm,
 * as in simdjson and simdutf). Three 16-entry tables, indexed by the nibbles of each byte
 * and of the byte before it, flag every invalid two-byte pattern; the bytes two and
 * three back say where a continuation byte must be. */

/* Bits of the error flags: which invalid pattern a pair of bytes is. */
enum {
    TOO_SHORT = 1 << 0,   /* lead byte or ASCII, then a lead byte or ASCII where a
                             continuation byte was due: 11______ 0_______ or 11______ */
    TOO_LONG = 1 << 1,    /* ASCII then a continuation byte: 0_______ 10______ */
    OVERLONG_3 = 1 << 2,  /* 11100000 100_____ */
    TOO_LARGE = 1 << 3,   /* above U+10FFFF: 11110100 1001____, 11110101 and above */
    SURROGATE = 1 << 4,   /* 11101101 101_____: U+D800..U+DFFF */
    OVERLONG_2 = 1 << 5,  /* 1100000_ 10______ */
    TOO_LARGE_1000 = 1 << 6, /* 11110101+ 1000____ */
    OVERLONG_4 = 1 << 6,  /* 11110000 1000____ (shares the bit: the first byte tells) */
    TWO_CONTS = 1 << 7,   /* continuation after continuation, where the lead allows none */
};
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

/* A plain validator: for other processors and for the end of the buffer. Returns 1 when
 * bytes[0..length) is valid UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF). */
static int utf8_valid_scalar(const uint8_t *bytes, size_t length) {
    size_t i = 0;
    while (i < length) {
        uint8_t b = bytes[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint8_t low = 0x80, high = 0xBF; /* allowed range of the second byte */
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            if (b == 0xE0) low = 0xA0;
            if (b == 0xED) high = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            if (b == 0xF0) low = 0x90;
            if (b == 0xF4) high = 0x8F;
        } else {
            return 0;
        }
        if (length - i <= need) return 0;
        if (bytes[i + 1] < low || bytes[i + 1] > high) return 0;
        for (size_t k = 2; k <= need; k++)
            if ((bytes[i + k] & 0xC0) != 0x80) return 0;
        i += need + 1;
    }
    return 1;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_SSSE3_PATH 1

__attribute__((target("ssse3"))) static __m128i utf8_block_errors(__m128i input,
                                                                   __m128i previous) {
    const __m128i nibble = _mm_set1_epi8(0x0F);
    const __m128i first_high = _mm_setr_epi8(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
        TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
        TOO_SHORT | OVERLONG_3 | SURROGATE,
        TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
    const __m128i first_low = _mm_setr_epi8(
        CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
        CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
        CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000);
    const __m128i second_high = _mm_setr_epi8(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE, TOO_SHORT, TOO_SHORT,
        TOO_SHORT, TOO_SHORT);
    __m128i prev1 = _mm_alignr_epi8(input, previous, 15);
    __m128i flags = _mm_and_si128(
        _mm_and_si128(
            _mm_shuffle_epi8(first_high, _mm_and_si128(_mm_srli_epi16(prev1, 4), nibble)),
            _mm_shuffle_epi8(first_low, _mm_and_si128(prev1, nibble))),
        _mm_shuffle_epi8(second_high, _mm_and_si128(_mm_srli_epi16(input, 4), nibble)));
    /* Third and fourth bytes of a sequence: two back a 111_____ lead, three back 1111____. */
    __m128i third = _mm_subs_epu8(_mm_alignr_epi8(input, previous, 14), _mm_set1_epi8(0x60));
    __m128i fourth = _mm_subs_epu8(_mm_alignr_epi8(input, previous, 13), _mm_set1_epi8(0x70));
    __m128i must_continue = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8((char)0x80));
    return _mm_xor_si128(must_continue, flags);
}

__attribute__((target("ssse3"))) static int utf8_valid_ssse3(const uint8_t *bytes,
                                                              size_t length) {
    /* A block ending in the first bytes of a sequence needs continuation bytes next. */
    const __m128i incomplete_above = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                   -1, -1, (char)0xEF, (char)0xDF, (char)0xBF);
    __m128i errors = _mm_setzero_si128(), previous = _mm_setzero_si128();
    __m128i incomplete = _mm_setzero_si128();
    size_t i = 0;
    uint8_t tail[16];
    while (i < length) {
        __m128i input;
        if (length - i >= 16) {
            input = _mm_loadu_si128((const __m128i *)(bytes + i));
        } else { /* the end, padded with ASCII */
            memset(tail, 0, sizeof tail);
            memcpy(tail, bytes + i, length - i);
            input = _mm_loadu_si128((const __m128i *)tail);
        }
        if (_mm_movemask_epi8(input) == 0) {
            errors = _mm_or_si128(errors, incomplete);
            incomplete = _mm_setzero_si128();
        } else {
            errors = _mm_or_si128(errors, utf8_block_errors(input, previous));
            incomplete = _mm_subs_epu8(input, incomplete_above);
        }
        previous = input;
        i += 16;
        if ((i & 0xFFFF) == 0 &&
            _mm_movemask_epi8(_mm_cmpeq_epi8(errors, _mm_setzero_si128())) != 0xFFFF)
            return 0;
    }
    errors = _mm_or_si128(errors, incomplete);
    return _mm_movemask_epi8(_mm_cmpeq_epi8(errors, _mm_setzero_si128())) == 0xFFFF;
}
#endif

static int utf8_valid(const uint8_t *bytes, size_t length, int vectorised) {
#ifdef HAVE_SSSE3_PATH
    if (vectorised && __builtin_cpu_supports("ssse3")) return utf8_valid_ssse3(bytes, length);
#endif
    return utf8_valid_scalar(bytes, length);
}

PyDoc_STRVAR(utf8_strings_valid_doc,
             "utf8_strings_valid(offsets, data, vectorised=True) -> bool\n\n"
             "Whether every string of a large_string array is valid UTF-8: the bytes they "
             "span are, and no string starts inside a character (on a continuation byte). "
             "vectorised=False uses the plain loop that other processors run (tests).");

static PyObject *utf8_strings_valid(PyObject *self, PyObject *args) {
    Py_buffer offsets, data;
    int vectorised = 1;
    if (!PyArg_ParseTuple(args, "y*y*|p", &offsets, &data, &vectorised)) return NULL;
    Py_ssize_t n = string_count(&offsets, &data);
    PyObject *result = NULL;
    if (n < 0) goto done;
    const int64_t *ends = offsets.buf;
    const uint8_t *bytes = data.buf;
    int valid = 1;
    Py_BEGIN_ALLOW_THREADS
    if (n > 0) {
        valid = utf8_valid(bytes + ends[0], (size_t)(ends[n] - ends[0]), vectorised);
        for (Py_ssize_t i = 1; valid && i < n; i++)
            if (ends[i] < ends[n] && (bytes[ends[i]] & 0xC0) == 0x80) valid = 0;
    }
    Py_END_ALLOW_THREADS
    result = PyBool_FromLong(valid);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    return result;
}

/* ---- CSV fields straight into Arrow columns. One pass per part of the file: quoted
 * fields are copied with memchr/memcpy ("" becomes "), unquoted ones byte by byte; each
 * field's bytes go to its column's data buffer and its end to the column's offsets, so
 * the text is written once, where Arrow and pandas will use it. Anything unusual (a
 * record with another number of fields, a part ending inside quotes) is reported and the
 * caller parses the file the general way. */

enum { CSV_OK = 0, CSV_RAGGED = 1, CSV_OPEN_QUOTE = 2 };

/* The position after `records` records from `start` (quote-aware; counts need not
 * match), or -1 when the data ends first. */
static Py_ssize_t csv_skip_records(const uint8_t *p, Py_ssize_t n, Py_ssize_t start,
                                   Py_ssize_t records) {
    Py_ssize_t i = start;
    while (records > 0) {
        if (i >= n) return -1;
        int quoted = 0;
        for (;;) {
            if (i >= n) {
                if (quoted) return -1;
                break;
            }
            uint8_t c = p[i++];
            if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && (c == '\n' || c == '\r')) {
                if (c == '\r' && i < n && p[i] == '\n') i++;
                break;
            }
        }
        records--;
    }
    return i;
}

PyDoc_STRVAR(csv_skip_doc,
             "csv_skip(data, start, records) -> position or -1\n\n"
             "The byte position after the given number of CSV records from start (only "
             "quotes and line breaks matter, not the delimiter).");

static PyObject *csv_skip(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t start, records;
    if (!PyArg_ParseTuple(args, "y*nn", &data, &start, &records)) return NULL;
    Py_ssize_t position = -1;
    if (start >= 0 && start <= data.len)
        position = csv_skip_records(data.buf, data.len, start, records);
    PyBuffer_Release(&data);
    return PyLong_FromSsize_t(position);
}

static int csv_fields(const uint8_t *p, Py_ssize_t n, uint8_t delimiter, Py_ssize_t columns,
                      uint8_t **data, int64_t **offsets, Py_ssize_t *rows_out) {
    Py_ssize_t i = 0, rows = 0;
    for (Py_ssize_t c = 0; c < columns; c++) offsets[c][0] = 0;
    while (i < n) {
        Py_ssize_t column = 0;
        for (;;) {
            if (column >= columns) {
                *rows_out = rows;
                return CSV_RAGGED;
            }
            uint8_t *out = data[column] + offsets[column][rows];
            if (i < n && p[i] == '"') {
                i++;
                for (;;) {
                    const uint8_t *quote = memchr(p + i, '"', (size_t)(n - i));
                    if (!quote) {
                        *rows_out = rows;
                        return CSV_OPEN_QUOTE;
                    }
                    size_t length = (size_t)(quote - (p + i));
                    memcpy(out, p + i, length);
                    out += length;
                    i += (Py_ssize_t)length + 1;
                    if (i < n && p[i] == '"') { /* "" inside quotes */
                        *out++ = '"';
                        i++;
                        continue;
                    }
                    break;
                }
            }
            while (i < n) { /* unquoted, or what follows a closing quote */
                uint8_t c = p[i];
                if (c == delimiter || c == '\n' || c == '\r') break;
                *out++ = c;
                i++;
            }
            offsets[column][rows + 1] = out - data[column];
            column++;
            if (i < n && p[i] == delimiter) { /* another field follows (empty at the end) */
                i++;
                continue;
            }
            if (i < n) { /* a line break ends the record */
                if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') i++;
                i++;
            }
            break;
        }
        if (column != columns) {
            *rows_out = rows;
            return CSV_RAGGED;
        }
        rows++;
    }
    *rows_out = rows;
    return CSV_OK;
}

PyDoc_STRVAR(csv_columns_doc,
             "csv_columns(data, delimiter, data_outs, offset_outs) -> (status, rows)\n\n"
             "Splits CSV records into columns: field bytes (unquoted, \"\" as \") appended "
             "to data_outs[c] (each at least len(data) bytes), their ends to offset_outs[c] "
             "(int64, at least len(data) // len(data_outs) + 2 entries). status 0: every "
             "record parsed; 1: a record without exactly one field per column (rows "
             "records before it); 2: the data ends inside quotes.");

static PyObject *csv_columns(PyObject *self, PyObject *args) {
    Py_buffer data;
    int delimiter;
    PyObject *data_list, *offset_list;
    if (!PyArg_ParseTuple(args, "y*iOO", &data, &delimiter, &data_list, &offset_list))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t columns = 0, acquired = 0;
    Py_buffer *views = NULL;
    uint8_t **outs = NULL;
    int64_t **ends = NULL;
    if (!PyList_Check(data_list) || !PyList_Check(offset_list) ||
        PyList_GET_SIZE(data_list) != PyList_GET_SIZE(offset_list) ||
        PyList_GET_SIZE(data_list) == 0) {
        PyErr_SetString(PyExc_ValueError, "data_outs and offset_outs: lists of one per column");
        goto done;
    }
    columns = PyList_GET_SIZE(data_list);
    views = PyMem_Calloc((size_t)(2 * columns), sizeof(Py_buffer));
    outs = PyMem_Calloc((size_t)columns, sizeof(uint8_t *));
    ends = PyMem_Calloc((size_t)columns, sizeof(int64_t *));
    if (!views || !outs || !ends) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t capacity = data.len / columns + 2;
    for (Py_ssize_t c = 0; c < columns; c++) {
        if (PyObject_GetBuffer(PyList_GET_ITEM(data_list, c), &views[2 * c], PyBUF_WRITABLE) < 0)
            goto done;
        acquired++;
        if (PyObject_GetBuffer(PyList_GET_ITEM(offset_list, c), &views[2 * c + 1],
                               PyBUF_WRITABLE) < 0)
            goto done;
        acquired++;
        if (check_size(&views[2 * c], data.len, 1, "data_outs") ||
            check_size(&views[2 * c + 1], capacity, 8, "offset_outs"))
            goto done;
        outs[c] = views[2 * c].buf;
        ends[c] = views[2 * c + 1].buf;
    }
    int status;
    Py_ssize_t rows;
    Py_BEGIN_ALLOW_THREADS
    status = csv_fields(data.buf, data.len, (uint8_t)delimiter, columns, outs, ends, &rows);
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(in)", status, rows);
done:
    for (Py_ssize_t k = 0; k < acquired; k++) PyBuffer_Release(&views[k]);
    PyMem_Free(views);
    PyMem_Free(outs);
    PyMem_Free(ends);
    PyBuffer_Release(&data);
    return result;
}

static PyMethodDef methods[] = {
    {"csv_skip", csv_skip, METH_VARARGS, csv_skip_doc},
    {"csv_columns", csv_columns, METH_VARARGS, csv_columns_doc},
    {"utf8_strings_valid", utf8_strings_valid, METH_VARARGS, utf8_strings_valid_doc},
    {"folded_hashes", folded_hashes, METH_VARARGS, folded_hashes_doc},
    {"splice", splice, METH_VARARGS, splice_doc},
    {"rows_with_bytes", rows_with_bytes, METH_VARARGS, rows_with_bytes_doc},
    {"trim_candidates", trim_candidates, METH_VARARGS, trim_candidates_doc},
    {"phone_scan", phone_scan, METH_VARARGS, phone_scan_doc},
    {"zero_prefixed", zero_prefixed, METH_VARARGS, zero_prefixed_doc},
    {"repeated", repeated, METH_VARARGS, repeated_doc},
    {"hash_strings", hash_strings, METH_VARARGS, hash_strings_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "sampling._kernels",
    "Compiled inner loops of frame validation (optional; numpy fallbacks exist).", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
