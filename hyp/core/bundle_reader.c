/*
 * Boot bundle lookup; format in shared/include/bundle.h.
 */
#include <string.h>

#include "bundle.h"
#include "bundle_reader.h"
#include <errno.h>

int bundle_find(const void *bundle, uint64_t bundle_size, const char *name,
                const void **image, uint64_t *size)
{
    const struct bundle_header *h = bundle;
    size_t name_len = strlen(name);

    if (bundle_size < sizeof(*h) || h->magic != BUNDLE_MAGIC || h->version != BUNDLE_VERSION ||
        h->count > BUNDLE_MAX_IMAGES || h->total_size > bundle_size)
        return -EINVAL;
    if (name_len > BUNDLE_NAME_MAX)
        return -ENOENT;
    /* The whole index is checked first: a corrupt bundle is refused whatever is asked. */
    for (uint32_t i = 0; i < h->count; i++) {
        const struct bundle_entry *e = &h->entries[i];

        if (e->offset > h->total_size || e->size > h->total_size - e->offset)
            return -EINVAL;
    }
    for (uint32_t i = 0; i < h->count; i++) {
        const struct bundle_entry *e = &h->entries[i];

        if (memcmp(e->name, name, name_len) ||
            (name_len < BUNDLE_NAME_MAX && e->name[name_len] != '\0'))
            continue;
        *image = (const uint8_t *)bundle + e->offset;
        *size = e->size;
        return 0;
    }
    return -ENOENT;
}
