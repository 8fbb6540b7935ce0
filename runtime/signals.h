/* Signal names as runc accepts them: "KILL", "SIGKILL", "9".  */
#ifndef SKIFF_RUNTIME_SIGNALS_H
#define SKIFF_RUNTIME_SIGNALS_H

/* Returns the signal number or -1.  */
int signal_parse (const char *name);
const char *signal_name (int sig);

#endif
