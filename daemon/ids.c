#include "ids.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int
id_generate (char *buf, skiff_error_t *err)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char raw[ID_LEN / 2];
  size_t i;

  for (;;)
    {
      bool all_digits = true;
      if (getrandom (raw, sizeof (raw), 0) != (ssize_t) sizeof (raw))
        return skiff_error_make (err, errno, "getrandom");
      for (i = 0; i < sizeof (raw); i++)
        {
          buf[2 * i] = hex[raw[i] >> 4];
          buf[2 * i + 1] = hex[raw[i] & 15];
        }
      buf[ID_LEN] = '\0';
      for (i = 0; i < ID_SHORT_LEN; i++)
        if (buf[i] > '9')
          all_digits = false;
      if (!all_digits)
        return 0;
    }
}

bool
id_is_full (const char *s)
{
  return strlen (s) == ID_LEN && strspn (s, "0123456789abcdef") == ID_LEN;
}

bool
name_is_valid (const char *name)
{
  static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  if (name[0] == '/')
    name++;
  if (strlen (name) < 2 || strchr (first, name[0]) == NULL || name[0] == '\0')
    return false;
  return strspn (name + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen (name + 1);
}

static const char *const adjectives[] = {
  "admiring", "brave",  "clever",   "dazzling", "eager",    "festive", "gallant", "hopeful",
  "jolly",    "keen",   "lucid",    "modest",   "nifty",    "optimistic", "peaceful", "quirky",
  "relaxed",  "serene", "tender",   "upbeat",   "vibrant",  "wizardly", "youthful", "zealous",
};

/* Names of people who shaped Unix and containers.  */
static const char *const surnames[] = {
  "ritchie", "thompson", "kernighan", "mcilroy", "torvalds", "stallman", "lamport", "liskov",
  "hopper",  "lovelace", "knuth",     "dijkstra", "hamilton", "bell",     "shannon", "turing",
  "cerf",    "kahn",     "wirth",     "hoare",    "pike",     "cox",      "joy",     "ossanna",
};

char *
name_generate (void)
{
  unsigned int r[2];
  char *s = NULL;
  if (getrandom (r, sizeof (r), 0) != (ssize_t) sizeof (r))
    r[0] = r[1] = 0;
  if (asprintf (&s, "%s_%s", adjectives[r[0] % (sizeof (adjectives) / sizeof (adjectives[0]))],
                surnames[r[1] % (sizeof (surnames) / sizeof (surnames[0]))])
      < 0)
    return NULL;
  return s;
}
