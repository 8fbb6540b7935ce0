/* Base64 (base64.h), over glibc's b64_ntop and b64_pton (libresolv): the
   CLI needs nothing more, and libcrypto would cost it ~2 ms of every
   start (it is 4.5 MiB to map and relocate).  */
#include "base64.h"

#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

char *
base64_encode (const void *data, size_t len, bool url)
{
  size_t size = 4 * ((len + 2) / 3) + 1;
  char *out = malloc (size), *p;

  if (out == NULL)
    return NULL;
  if (b64_ntop (data, len, out, size) < 0)
    {
      free (out);
      return NULL;
    }
  for (p = out; url && *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  return out;
}

char *
base64_decode (const char *s, size_t *len)
{
  size_t n = strlen (s), i, padded;
  char *in, *out;
  int got;

  while (n > 0 && s[n - 1] == '=')
    n--;
  if (n % 4 == 1)
    return NULL;
  /* b64_pton wants the standard alphabet and the padding.  */
  padded = (n + 3) / 4 * 4;
  in = malloc (padded + 1);
  out = malloc (padded / 4 * 3 + 1);
  if (in == NULL || out == NULL)
    {
      free (in);
      free (out);
      return NULL;
    }
  for (i = 0; i < n; i++)
    {
      /* b64_pton skips white space: base64 has none.  */
      if (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))
        break;
      in[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    }
  if (i < n)
    {
      free (in);
      free (out);
      return NULL;
    }
  for (; i < padded; i++)
    in[i] = '=';
  in[padded] = '\0';
  got = b64_pton (in, (unsigned char *) out, padded / 4 * 3 + 1);
  free (in);
  if (got < 0)
    {
      free (out);
      return NULL;
    }
  out[got] = '\0';
  if (len)
    *len = (size_t) got;
  return out;
}
