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

#define VUART_RX_FIFO 64   /* deeper than the PL011's 32 so a paste is not throttled */

/* Register offsets */
#define UART_DR     0x000
#define UART_RSR    0x004
#define UART_FR     0x018
#define UART_ILPR   0x020
#define UART_IBRD   0x024
#define UART_FBRD   0x028
#define UART_LCR_H  0x02c
#define UART_CR     0x030
#define UART_IFLS   0x034
#define UART_IMSC   0x038
#define UART_RIS    0x03c
#define UART_MIS    0x040
#define UART_ICR    0x044
#define UART_DMACR  0x048
#define UART_PERIPHID0 0xfe0
#define UART_PCELLID0  0xff0

/* Flag register bits */
#define UART_FR_BUSY  (1u << 3)
#define UART_FR_RXFE  (1u << 4)
#define UART_FR_TXFF  (1u << 5)
#define UART_FR_RXFF  (1u << 6)
#define UART_FR_TXFE  (1u << 7)

/* Interrupt bits (RIS, MIS, IMSC, ICR) */
#define UART_INT_RX   (1u << 4)
#define UART_INT_TX   (1u << 5)
#define UART_INT_RT   (1u << 6)
#define UART_INT_ALL  0x7ffu

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
