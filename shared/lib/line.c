/*
 * Line editing for the partitions' consoles: printable characters are kept, Backspace and DEL erase,
 * Ctrl-C drops the line, CR or LF ends it. Control characters and bytes outside
 * printable ASCII are ignored, so no input can put the shell into a strange state;
 * a line longer than LINE_MAX_CHARS is consumed to its end and then refused as a whole,
 * never cut short and run.
 */
#include "line.h"

void line_reset(struct line_editor *ed)
{
    ed->len = 0;
    ed->overflow = false;
    ed->buf[0] = '\0';
}

enum line_event line_feed(struct line_editor *ed, int c)
{
    bool after_cr = ed->last_cr;

    ed->last_cr = c == '\r';
    if (c == '\n' && after_cr)
        return LINE_NONE;
    if (c == '\r' || c == '\n') {
        if (ed->overflow) {
            line_reset(ed);
            return LINE_TOO_LONG;
        }
        ed->buf[ed->len] = '\0';
        return LINE_DONE;
    }
    if (c == 0x03) {
        line_reset(ed);
        return LINE_CANCEL;
    }
    if (c == 0x08 || c == 0x7f) {
        if (ed->overflow || !ed->len)
            return LINE_NONE;
        ed->len--;
        return LINE_ERASE;
    }
    if (c < 0x20 || c > 0x7e)
        return LINE_NONE;
    if (ed->overflow)
        return LINE_NONE;
    if (ed->len == LINE_MAX_CHARS) {
        ed->overflow = true;
        return LINE_NONE;
    }
    ed->buf[ed->len++] = (char)c;
    return LINE_ECHO;
}
