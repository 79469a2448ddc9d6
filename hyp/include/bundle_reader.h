/*
 * Looking up an image in the boot bundle, with every field checked against the bundle's
 * real size (the bundle is input from outside the hypervisor).
 */
#ifndef HYP_BUNDLE_READER_H
#define HYP_BUNDLE_READER_H

#include <stddef.h>
#include <stdint.h>

/* -EINVAL: not a bundle or a corrupt index; -ENOENT: no such image. */
int bundle_find(const void *bundle, uint64_t bundle_size, const char *name,
                const void **image, uint64_t *size);

#endif /* HYP_BUNDLE_READER_H */
