#include "top.h"
#include "cleanup.h"
#include "daemon.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char **
top_split_line (const char *line, size_t n_titles)
{
  char **v = calloc (n_titles + 1, sizeof (char *));
  const char *p = line;
  size_t i;
  if (v == NULL)
    return NULL;
  for (i = 0; i < n_titles; i++)
    {
      const char *start;
      while (*p == ' ' || *p == '\t')
        p++;
      start = p;
      if (i == n_titles - 1)
        p = start + strcspn (start, "\n");
      else
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
          p++;
      v[i] = strndup (start, p - start);
      if (v[i] == NULL)
        {
          cleanup_strvp (&v);
          return NULL;
        }
    }
  return v;
}

/* Runs ps with args (split on blanks) and returns its output.  */
static int
run_ps (const char *ps_args, char **out, skiff_error_t *err)
{
  cleanup_free char *args = strdup (ps_args && *ps_args ? ps_args : "-ef");
  char *argv[32], *tok, *save = NULL;
  int n = 0, pfd[2], status;
  pid_t pid;
  FILE *f;
  char *buf = NULL;
  size_t len = 0;

  if (args == NULL)
    return skiff_error_make (err, ENOMEM, "top");
  argv[n++] = (char *) "ps";
  for (tok = strtok_r (args, " \t", &save); tok && n < 31; tok = strtok_r (NULL, " \t", &save))
    argv[n++] = tok;
  argv[n] = NULL;
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return skiff_error_make (err, errno, "pipe");
  pid = fork ();
  if (pid == 0)
    {
      dup2 (pfd[1], 1);
      execvp ("ps", argv);
      _exit (127);
    }
  close (pfd[1]);
  if (pid < 0)
    {
      close (pfd[0]);
      return skiff_error_make (err, errno, "fork");
    }
  f = fdopen (pfd[0], "r");
  if (f)
    {
      FILE *m = open_memstream (&buf, &len);
      char chunk[4096];
      size_t got;
      while (m && (got = fread (chunk, 1, sizeof (chunk), f)) > 0)
        fwrite (chunk, 1, got, m);
      if (m)
        fclose (m);
      fclose (f);
    }
  else
    close (pfd[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      free (buf);
      return daemon_error (err, 500, "Error running ps: exit status %d", WIFEXITED (status) ? WEXITSTATUS (status) : -1);
    }
  *out = buf ? buf : strdup ("");
  return 0;
}

int
top_json (const char *ps_args, const pid_t *pids, size_t n, char **json, skiff_error_t *err)
{
  cleanup_free char *out = NULL;
  cleanup_strv char **titles = NULL;
  cleanup_gen yajl_gen g = NULL;
  char *line, *save = NULL, *header;
  size_t n_titles = 0, pid_col = (size_t) -1, i;

  if (run_ps (ps_args, &out, err) < 0)
    return -1;
  header = strtok_r (out, "\n", &save);
  if (header == NULL)
    return daemon_error (err, 500, "ps printed nothing");
  {
    cleanup_free char *h = strdup (header);
    char *t, *s2 = NULL;
    titles = calloc (64, sizeof (char *));
    if (h == NULL || titles == NULL)
      return daemon_error (err, 500, "out of memory");
    for (t = strtok_r (h, " \t", &s2); t && n_titles < 63; t = strtok_r (NULL, " \t", &s2))
      {
        if (strcmp (t, "PID") == 0)
          pid_col = n_titles;
        titles[n_titles++] = strdup (t);
      }
  }
  if (pid_col == (size_t) -1)
    return daemon_error (err, 500, "Couldn't find PID field in ps output");
  g = json_gen_new (false);
  yajl_gen_map_open (g);
  json_gen_str (g, "Titles");
  yajl_gen_array_open (g);
  for (i = 0; i < n_titles; i++)
    json_gen_str (g, titles[i]);
  yajl_gen_array_close (g);
  json_gen_str (g, "Processes");
  yajl_gen_array_open (g);
  for (line = strtok_r (NULL, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      cleanup_strv char **fields = top_split_line (line, n_titles);
      long p;
      size_t k;
      bool ours = false;
      if (fields == NULL || fields[pid_col] == NULL)
        continue;
      p = strtol (fields[pid_col], NULL, 10);
      for (k = 0; k < n; k++)
        if (pids[k] == p)
          ours = true;
      if (!ours)
        continue;
      yajl_gen_array_open (g);
      for (k = 0; k < n_titles; k++)
        json_gen_str (g, fields[k]);
      yajl_gen_array_close (g);
    }
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  *json = json_gen_steal (g, NULL);
  return *json ? 0 : daemon_error (err, 500, "out of memory");
}
