/* replay_main.c - runs a fuzz target over corpus files without libFuzzer, so every test build
 * replays the corpora (under ASan in the sanitizer build). Arguments: files or directories.
 * Fails when an argument is missing, unreadable or yields no input at all: a corpus that
 * vanished or was never checked in must not pass as "0 failed". */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_file(const char *path, size_t *passed, size_t *failed)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    (*failed)++;
    return;
  }
  uint8_t *buf = NULL;
  long len = -1;
  if (fseek(f, 0, SEEK_END) == 0)
    len = ftell(f);
  if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
    goto fail;
  /* An exact-size heap copy, so ASan catches a read one byte past the input. */
  buf = malloc(len > 0 ? (size_t)len : 1);
  if (!buf || (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len))
    goto fail;
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)len);
  free(buf);
  (*passed)++;
  return;
fail:
  fprintf(stderr, "replay: cannot read %s\n", path);
  free(buf);
  fclose(f);
  (*failed)++;
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
    fprintf(stderr, "replay: cannot open directory %s\n", path);
    (*failed)++;
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    size_t n = strlen(path) + strlen(e->d_name) + 2;
    char *child = malloc(n);
    if (!child) {
      (*failed)++;
      break;
    }
    snprintf(child, n, "%s/%s", path, e->d_name);
    run_path(child, passed, failed);
    free(child);
  }
  closedir(d);
}

int main(int argc, char **argv)
{
  size_t total = 0, failed = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    size_t passed = 0, failed_before = failed;
    run_path(argv[i], &passed, &failed);
    printf("replayed %zu inputs from %s\n", passed, argv[i]);
    if (passed == 0 && failed == failed_before) {
      fprintf(stderr, "replay: no input in %s: an empty corpus tests nothing\n", argv[i]);
      failed++;
    }
    total += passed;
  }
  printf("%zu replayed, %zu failed\n", total, failed);
  return failed ? 1 : 0;
}
