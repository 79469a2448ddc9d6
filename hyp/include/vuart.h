/*
 * Emulated PL011 UART (ARM DDI 0183), one per partition. The partition's accesses to its
 * console page trap to the hypervisor (the page is absent from its stage-2 table) and
 * land here. Transmit is immediate (the physical console is owned by the hypervisor),
 * so the transmit FIFO always reads empty; receive has a FIFO fed by the console
 * multiplexer. Enough of the register set, PrimeCell IDs included, for Linux's
 * amba-pl011 driver as well as our own kernels.
 */
#ifndef HYP_VUART_H
#define HYP_VUART_H

#include <stdbool.h>
#include <stdint.h>

#include "pl011.h"

#define VUART_RX_FIFO 64   /* deeper than the PL011's 32 so a paste is not throttled */

struct vuart {
    uint32_t ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, dmacr;
    uint8_t rx[VUART_RX_FIFO];
    unsigned rx_head, rx_count;
    void (*tx)(void *ctx, uint8_t c);
    void *ctx;
};

void vuart_init(struct vuart *u, void (*tx)(void *ctx, uint8_t c), void *ctx);
/* A read of size bytes (1, 2 or 4) at offset in the 4 KiB page. Unknown offsets read 0. */
uint32_t vuart_read(struct vuart *u, uint32_t offset, unsigned size);
/* A write. Unknown and read-only offsets ignore it, as the hardware does. */
void vuart_write(struct vuart *u, uint32_t offset, unsigned size, uint32_t value);
/* Received character from the console; false (and nothing stored) when the FIFO is full. */
bool vuart_rx_push(struct vuart *u, uint8_t c);
bool vuart_rx_full(const struct vuart *u);
unsigned vuart_rx_space(const struct vuart *u);
/* Raw and masked interrupt status, for the interrupt line once a vGIC wires it. */
uint32_t vuart_ris(const struct vuart *u);

#endif /* HYP_VUART_H */
