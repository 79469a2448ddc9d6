/*
 * PL011 UART registers (Arm PrimeCell UART TRM, DDI 0183): byte offsets and bits, for
 * the hypervisor's physical console, its emulated ones and the partitions' drivers.
 */
#ifndef SHARED_PL011_H
#define SHARED_PL011_H

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

/* Line control and control register bits */
#define UART_LCR_H_FEN (1u << 4)   /* FIFOs enabled */
#define UART_CR_UARTEN (1u << 0)

#endif /* SHARED_PL011_H */
