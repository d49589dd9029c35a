/*
 * Standalone driver for the libFuzzer harnesses: feeds every file of the
 * directories (or files) given on the command line to
 * LLVMFuzzerTestOneInput once. Used by `meson test` with any compiler.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    long size;

    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc(size > 0 ? (size_t)size : 1);
    if (!data || (size > 0 && fread(data, 1, (size_t)size, f) != (size_t)size)) {
        fprintf(stderr, "cannot read %s\n", path);
        free(data);
        fclose(f);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, (size_t)size);
    free(data);
    return 0;
}

static int replay_path(const char *path, size_t *count)
{
    struct stat st;
    DIR *dir;
    struct dirent *entry;
    char child[4096];
    int failed = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "no such corpus: %s\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return replay_file(path);
    }
    dir = opendir(path);
    if (!dir)
        return 1;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        failed |= replay_path(child, count);
    }
    closedir(dir);
    return failed;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int failed = 0, i;

    for (i = 1; i < argc; i++)
        failed |= replay_path(argv[i], &count);
    printf("replayed %zu inputs\n", count);
    if (count == 0) {
        fprintf(stderr, "empty corpus\n");
        return 1;
    }
    return failed;
}
