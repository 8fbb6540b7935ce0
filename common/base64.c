/* Base64 (base64.h).  */
#include "base64.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

char *
base64_encode (const void *data, size_t len, bool url)
{
  char *out = malloc (4 * ((len + 2) / 3) + 1), *p;
  if (out == NULL)
    return NULL;
  EVP_EncodeBlock ((unsigned char *) out, data, (int) len);
  for (p = out; url && *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  return out;
}

char *
base64_decode (const char *s, size_t *len)
{
  size_t n = strlen (s), i, padded, pad = 0;
  unsigned char *in;
  char *out;
  int got;

  while (n > 0 && s[n - 1] == '=')
    n--;
  if (n % 4 == 1)
    return NULL;
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
    in[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
  for (; i < padded; i++, pad++)
    in[i] = '=';
  got = EVP_DecodeBlock ((unsigned char *) out, in, (int) padded);
  free (in);
  if (got < 0 || (size_t) got < pad)
    {
      free (out);
      return NULL;
    }
  /* EVP_DecodeBlock counts the padding's zero bytes.  */
  got -= (int) pad;
  out[got] = '\0';
  if (len)
    *len = got;
  return out;
}
