/*
 * text.c — UTF-16 to UTF-8 for the W functions (the A functions take UTF-8,
 * DESIGN.md), without the host's locale.
 */
#include "base.h"

size_t wm_utf16_to_utf8(const WCHAR *in, char *out, size_t room)
{
    size_t n = 0;
    for (size_t i = 0; in[i]; i++) {
        uint32_t c = in[i];
        if (c >= 0xD800 && c <= 0xDBFF) {                   /* a pair, or nothing */
            if (in[i + 1] < 0xDC00 || in[i + 1] > 0xDFFF)
                return (size_t)-1;
            c = 0x10000 + ((c - 0xD800) << 10) + (in[++i] - 0xDC00u);
        } else if (c >= 0xDC00 && c <= 0xDFFF) {
            return (size_t)-1;
        }
        unsigned len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        if (n + len >= room)
            return (size_t)-2;
        static const uint8_t lead[5] = { 0, 0x00, 0xC0, 0xE0, 0xF0 };
        for (unsigned k = len; k-- > 1;) {
            out[n + k] = (char)(0x80 | (c & 0x3F));
            c >>= 6;
        }
        out[n] = (char)(lead[len] | c);
        n += len;
    }
    out[n] = '\0';
    return n;
}
