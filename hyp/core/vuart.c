/*
 * PL011 register model; see vuart.h for what is emulated and why.
 */
#include "vuart.h"

/* PrimeCell identification: part 0x011, designer 0x41 (Arm), revision r1p5, and the
 * PrimeCell component ID 0xB105F00D, as the PL011 TRM gives them. */
static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

#define CR_RESET    0x0300u   /* TXE | RXE */
#define IFLS_RESET  0x12u     /* both FIFO triggers at half full */

void vuart_init(struct vuart *u, void (*tx)(void *ctx, uint8_t c), void *ctx)
{
    *u = (struct vuart){ .cr = CR_RESET, .ifls = IFLS_RESET, .tx = tx, .ctx = ctx };
}

bool vuart_rx_full(const struct vuart *u)
{
    return u->rx_count == VUART_RX_FIFO;
}

unsigned vuart_rx_space(const struct vuart *u)
{
    return VUART_RX_FIFO - u->rx_count;
}

bool vuart_rx_push(struct vuart *u, uint8_t c)
{
    if (vuart_rx_full(u))
        return false;
    u->rx[(u->rx_head + u->rx_count) % VUART_RX_FIFO] = c;
    u->rx_count++;
    return true;
}

/* RX trigger level from IFLS[5:3]: 1/8, 1/4, 1/2, 3/4, 7/8 of the FIFO. */
static unsigned rx_trigger(const struct vuart *u)
{
    static const unsigned eighths[] = { 1, 2, 4, 6, 7 };
    unsigned sel = (u->ifls >> 3) & 7;

    return VUART_RX_FIFO * eighths[sel < 5 ? sel : 4] / 8;
}

uint32_t vuart_ris(const struct vuart *u)
{
    /* Transmit is instantaneous, so the TX FIFO is always below its trigger level. */
    uint32_t ris = UART_INT_TX;

    if (u->rx_count >= rx_trigger(u))
        ris |= UART_INT_RX;
    else if (u->rx_count)
        ris |= UART_INT_RT;   /* characters waiting below the trigger: receive timeout */
    return ris;
}

static uint32_t read_reg(struct vuart *u, uint32_t reg)
{
    switch (reg) {
    case UART_DR: {
        uint8_t c;

        if (!u->rx_count)
            return 0;
        c = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % VUART_RX_FIFO;
        u->rx_count--;
        return c;
    }
    case UART_FR:
        return UART_FR_TXFE | (u->rx_count ? 0 : UART_FR_RXFE) |
               (vuart_rx_full(u) ? UART_FR_RXFF : 0);
    case UART_ILPR: return u->ilpr;
    case UART_IBRD: return u->ibrd;
    case UART_FBRD: return u->fbrd;
    case UART_LCR_H: return u->lcr_h;
    case UART_CR: return u->cr;
    case UART_IFLS: return u->ifls;
    case UART_IMSC: return u->imsc;
    case UART_RIS: return vuart_ris(u);
    case UART_MIS: return vuart_ris(u) & u->imsc;
    case UART_DMACR: return u->dmacr;
    default:
        if (reg >= UART_PERIPHID0 && reg <= UART_PCELLID0 + 0xc)
            return pl011_id[(reg - UART_PERIPHID0) / 4];
        return 0;   /* RSR (no errors ever), reserved and write-only registers */
    }
}

uint32_t vuart_read(struct vuart *u, uint32_t offset, unsigned size)
{
    uint32_t reg = offset & 0xffcu, v;

    /* Only a read of DR itself takes a character; its upper bytes (error flags) are 0. */
    if (reg == UART_DR && (offset & 3u))
        return 0;
    v = read_reg(u, reg);

    /* Narrow accesses see their byte lanes of the 32-bit register. */
    v >>= 8 * (offset & 3u);
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

void vuart_write(struct vuart *u, uint32_t offset, unsigned size, uint32_t value)
{
    uint32_t reg = offset & 0xffcu;

    if (offset & 3u || size == 0)
        return;   /* registers are written whole from their base address */
    switch (reg) {
    case UART_DR:
        /* Sent whatever the enable bits say: early consoles write before enabling. */
        u->tx(u->ctx, (uint8_t)value);
        break;
    case UART_ILPR: u->ilpr = value & 0xff; break;
    case UART_IBRD: u->ibrd = value & 0xffff; break;
    case UART_FBRD: u->fbrd = value & 0x3f; break;
    case UART_LCR_H: u->lcr_h = value & 0xff; break;
    case UART_CR: u->cr = value & 0xffff; break;
    case UART_IFLS: u->ifls = value & 0x3f; break;
    case UART_IMSC: u->imsc = value & UART_INT_ALL; break;
    case UART_DMACR: u->dmacr = value & 0x7; break;
    default:
        /* RSR/ECR and ICR clear error and sticky interrupt state; our state has none
         * (errors never happen, interrupt status follows the FIFO level). */
        break;
    }
}
