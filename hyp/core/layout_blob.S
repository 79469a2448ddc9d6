/* The partition layout DTB (built by dtc and tools/mkbundle), linked into the image. */
    .section .rodata
    .balign 8
    .global __layout_dtb
__layout_dtb:
    .incbin LAYOUT_DTB
