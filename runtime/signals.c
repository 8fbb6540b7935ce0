#include "signals.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct
{
  const char *name;
  int sig;
} signal_names[] = {
  { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },     { "ILL", SIGILL },
  { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },       { "BUS", SIGBUS },
  { "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },     { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CONT", SIGCONT },     { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },     { "URG", SIGURG },
  { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
  { "WINCH", SIGWINCH }, { "IO", SIGIO },         { "POLL", SIGPOLL },     { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

int
signal_parse (const char *name)
{
  size_t i;
  char *end;
  long n;

  if (name == NULL || *name == '\0')
    return -1;
  if (name[0] >= '0' && name[0] <= '9')
    {
      n = strtol (name, &end, 10);
      if (*end != '\0' || n <= 0 || n >= NSIG)
        return -1;
      return (int) n;
    }
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (i = 0; i < sizeof (signal_names) / sizeof (signal_names[0]); i++)
    if (strcasecmp (name, signal_names[i].name) == 0)
      return signal_names[i].sig;
  /* RTMIN, RTMIN+n, RTMAX-n */
  if (strncasecmp (name, "RTMIN", 5) == 0 || strncasecmp (name, "RTMAX", 5) == 0)
    {
      int base = strncasecmp (name, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX;
      const char *rest = name + 5;
      if (*rest == '\0')
        return base;
      n = strtol (rest, &end, 10);
      if (*end != '\0' || (rest[0] != '+' && rest[0] != '-'))
        return -1;
      n += base;
      if (n < SIGRTMIN || n > SIGRTMAX)
        return -1;
      return (int) n;
    }
  return -1;
}

const char *
signal_name (int sig)
{
  size_t i;
  for (i = 0; i < sizeof (signal_names) / sizeof (signal_names[0]); i++)
    if (signal_names[i].sig == sig)
      return signal_names[i].name;
  return NULL;
}
