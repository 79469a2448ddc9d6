/*
 * Line editing for the partitions' consoles (the RT shell, the AI console): a byte at a
 * time in, events out, no I/O of its own, so the host tests drive it directly.
 */
#ifndef SHARED_LINE_H
#define SHARED_LINE_H

#include <stdbool.h>
#include <stddef.h>

#define LINE_MAX_CHARS 255   /* characters in one line */

enum line_event { LINE_NONE, LINE_DONE, LINE_TOO_LONG, LINE_ERASE, LINE_ECHO, LINE_CANCEL };

struct line_editor {
    char buf[LINE_MAX_CHARS + 1];
    size_t len;
    bool overflow;           /* this line has gone past LINE_MAX_CHARS */
    bool last_cr;            /* swallow the LF of a CR LF pair */
};

/* Feed one received byte. LINE_DONE / LINE_TOO_LONG end a line (buf is NUL-terminated on
 * LINE_DONE); LINE_ECHO means print the byte; LINE_ERASE means rub one character out;
 * LINE_CANCEL (Ctrl-C) drops the line. */
enum line_event line_feed(struct line_editor *ed, int c);
void line_reset(struct line_editor *ed);

#endif /* SHARED_LINE_H */
