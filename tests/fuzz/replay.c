/* Feeds every file of a corpus directory to LLVMFuzzerTestOneInput() once, in name order, so the
 * fuzz corpora run as regression tests under gcc and ASan without libFuzzer. Links with any one
 * tests/fuzz/fuzz_<name>.c. Fails when the directory is missing, unreadable or empty. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_INPUT_BYTES (1 << 20) /* libFuzzer's default -max_len is far below this */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads path whole and runs it; returns 0, or -1 (with a message) when it cannot be read. */
static int run_file(const char *path, size_t size)
{
    FILE *f;
    uint8_t *data;
    size_t got;

    if (size > MAX_INPUT_BYTES) {
        fprintf(stderr, "replay: %s: larger than %d bytes\n", path, MAX_INPUT_BYTES);
        return -1;
    }
    if ((f = fopen(path, "rb")) == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    data = malloc(size ? size : 1);
    got = data != NULL ? fread(data, 1, size, f) : 0;
    fclose(f);
    if (data == NULL || got != size) {
        fprintf(stderr, "replay: %s: short read\n", path);
        free(data);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    struct dirent **names;
    char path[4096];
    struct stat st;
    size_t inputs = 0;
    int i, n, failed = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    if ((n = scandir(argv[1], &names, NULL, alphasort)) < 0) {
        fprintf(stderr, "replay %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", argv[1], names[i]->d_name);
        if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path, (size_t)st.st_size) == 0)
                inputs++;
            else
                failed = 1;
        }
        free(names[i]);
    }
    free(names);
    printf("replay %s: %zu inputs\n", argv[1], inputs);
    if (inputs == 0)
        fprintf(stderr, "replay %s: no inputs\n", argv[1]);
    return failed || inputs == 0 ? 1 : 0;
}
