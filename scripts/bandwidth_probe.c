/* STREAM-like probe of this machine's memory bandwidth for an optimizer's
 * access pattern: read p and g, read and write k state buffers, write p —
 * (3 + 2k) · sizeof(float) bytes per parameter, with trivial arithmetic.
 * Usage: bandwidth_probe N K THREADS REPS  → prints the best ns per parameter.
 * Build: gcc -O3 -march=native -fopenmp scripts/bandwidth_probe.c -o probe */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s N K THREADS REPS\n", argv[0]);
    return 2;
  }
  long n = atol(argv[1]);
  int k = atoi(argv[2]), threads = atoi(argv[3]), reps = atoi(argv[4]);
  omp_set_num_threads(threads);
  float *p = aligned_alloc(64, n * sizeof(float)), *g = aligned_alloc(64, n * sizeof(float));
  float *b[3];
  for (int j = 0; j < 3; j++) b[j] = aligned_alloc(64, n * sizeof(float));
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++) {
    p[i] = 1.0f; g[i] = 1e-3f * (i % 5); b[0][i] = b[1][i] = b[2][i] = 0.0f;
  }
  double best = 1e300;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    switch (k) {
      case 0:
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) p[i] = p[i] - 1e-3f * g[i];
        break;
      case 1:
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) { float m = 0.9f * b[0][i] + g[i]; b[0][i] = m; p[i] -= 1e-3f * m; }
        break;
      case 2:
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) {
          float m = 0.9f * b[0][i] + g[i], v = 0.99f * b[1][i] + g[i];
          b[0][i] = m; b[1][i] = v; p[i] -= 1e-3f * (m + v);
        }
        break;
      default:
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) {
          float m = 0.9f * b[0][i] + g[i], v = 0.99f * b[1][i] + g[i], w = b[2][i] + v;
          b[0][i] = m; b[1][i] = v; b[2][i] = w; p[i] -= 1e-3f * (m + v + w);
        }
    }
    double t = now() - t0;
    if (t < best) best = t;
  }
  printf("%.6f\n", best / n);
  return p[n / 2] == 12345.0f; /* keep the work observable */
}
