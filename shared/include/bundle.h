/*
 * The boot bundle: every partition image in one file, loaded by the firmware as the
 * initrd. An index of fixed-size entries followed by the images, each 4 KiB aligned.
 * Written by tools/mkbundle on the host, read by the hypervisor, which trusts nothing in
 * it: every entry is bounds-checked and every image is hashed against the layout.
 * All fields little-endian.
 */
#ifndef SHARED_BUNDLE_H
#define SHARED_BUNDLE_H

#include <stdint.h>

#define BUNDLE_MAGIC      0x4c444e42534f4941ull   /* "AIOSBNDL" */
#define BUNDLE_VERSION    1
#define BUNDLE_MAX_IMAGES 16
#define BUNDLE_NAME_MAX   16
#define BUNDLE_ALIGN      4096

struct bundle_entry {
    char name[BUNDLE_NAME_MAX];   /* NUL-padded; a full-length name has no NUL */
    uint64_t offset;              /* from the start of the bundle */
    uint64_t size;
};

struct bundle_header {
    uint64_t magic;
    uint32_t version;
    uint32_t count;
    uint64_t total_size;
    struct bundle_entry entries[BUNDLE_MAX_IMAGES];
};

#endif /* SHARED_BUNDLE_H */
