/* replay_main.c - runs a fuzz target over corpus files without libFuzzer, so every test build
 * replays the corpora (under ASan in the sanitizer build). Arguments: files or directories. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, size_t *passed, size_t *failed)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    (*failed)++;
    return -1;
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  /* An exact-size heap copy, so ASan catches a read one byte past the input. */
  uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
  if (!buf || (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    free(buf);
    fclose(f);
    (*failed)++;
    return -1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, len > 0 ? (size_t)len : 0);
  free(buf);
  (*passed)++;
  return 0;
}

static void run_path(const char *path, size_t *passed, size_t *failed)
{
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: no such file or directory: %s\n", path);
    (*failed)++;
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    run_file(path, passed, failed);
    return;
  }
  DIR *d = opendir(path);
  if (!d) {
    (*failed)++;
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    size_t n = strlen(path) + strlen(e->d_name) + 2;
    char *child = malloc(n);
    if (!child)
      break;
    snprintf(child, n, "%s/%s", path, e->d_name);
    run_path(child, passed, failed);
    free(child);
  }
  closedir(d);
}

int main(int argc, char **argv)
{
  size_t passed = 0, failed = 0;
  for (int i = 1; i < argc; i++)
    run_path(argv[i], &passed, &failed);
  printf("%zu passed, %zu failed\n", passed, failed);
  return failed ? 1 : 0;
}
