#!/usr/bin/env Rscript
# R glmnet anchors for the two tasks mapfit's bench derives from problems.json
# (examples/bench.rs documents them):
#   ridge_path  glmnet(alpha = 0) on 100 lambdas: lambda_max_lasso / 0.001 down to
#               ratio * that (ratio 1e-3 if n > p else 1e-2); y has unit sd, so glmnet's
#               L2 scaling by s_y is a no-op and the objective is (1/2n)||y - Xb||^2 + lam/2 ||b||^2
#   lasso_cv    cv.glmnet(alpha = 1) on the lasso grid, foldid = (i mod 10) + 1, mse
# both at thresh = 1e-7 (glmnet's default) and 1e-14 (accuracy-matched), standardize = FALSE,
# intercept = FALSE, glmnet.control(fdev = 0, devmax = 1), as bench_glmnet.R.
#
# Usage: BENCH=/path/to/bench Rscript extra_tasks.R [cpu|wall] [dataset ...]
# Prints one JSON object per line. Timing protocol of bench_glmnet.R; with "cpu" (default)
# the clock is proc.time() user + system of this process (1 ms resolution).

suppressPackageStartupMessages({library(glmnet); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
clock <- if (length(args) && args[1] %in% c("cpu", "wall")) args[1] else "cpu"
only <- setdiff(args, c("cpu", "wall"))
BENCH <- Sys.getenv("BENCH", ".")
DATA <- file.path(BENCH, "data")
glmnet.control(fdev = 0, devmax = 1.0)

now <- if (clock == "cpu") function() { t <- proc.time(); t[[1]] + t[[2]] } else
  function() as.numeric(Sys.time())

time_call <- function(fn, fast_reps = 5, slow_reps = 3, slow_s = 2.0, min_rep_s = 0.05) {
  out <- fn()
  t0 <- now(); out <- fn(); first <- now() - t0
  inner <- 1
  if (first < min_rep_s) inner <- as.integer(min(1000, max(1, ceiling(min_rep_s / max(first, 1e-7)))))
  reps <- if (first < slow_s) fast_reps else slow_reps
  times <- if (inner == 1) first else numeric(0)
  while (length(times) < reps) {
    t0 <- now()
    for (i in seq_len(inner)) out <- fn()
    times <- c(times, (now() - t0) / inner)
  }
  list(median_s = median(times), reps = reps, inner_loops = inner, out = out)
}

load_std <- function(name) {
  meta <- fromJSON(file.path(DATA, paste0(name, ".json")))
  n <- meta$n; p <- meta$p
  X <- matrix(readBin(file.path(DATA, meta$X_file), "double", n = n * p, size = 8,
                      endian = "little"), nrow = n, ncol = p, byrow = TRUE)
  y <- readBin(file.path(DATA, meta$y_file), "double", n = n, size = 8, endian = "little")
  mu <- colMeans(X); Xc <- sweep(X, 2, mu, "-"); Xs <- sweep(Xc, 2, sqrt(colMeans(Xc^2)), "/")
  yc <- y - mean(y)
  list(X = Xs, y = yc / sqrt(mean(yc^2)))
}

# max over the path of max_j dist(-grad_j, lam * a * subdiff |b_j|), no intercept
kkt <- function(X, y, B, lams, a) {
  n <- nrow(X); worst <- 0
  for (k in seq_along(lams)) {
    b <- B[, k]
    g <- drop(crossprod(X, X %*% b - y)) / n + lams[k] * (1 - a) * b
    l1 <- lams[k] * a
    v <- ifelse(b != 0, abs(g + l1 * sign(b)), pmax(abs(g) - l1, 0))
    worst <- max(worst, max(v))
  }
  worst
}

emit <- function(task, ds, tool, d, lams, t, k, extra = list()) {
  cat(toJSON(c(list(task = task, dataset = ds, tool = tool, n = nrow(d$X), p = ncol(d$X),
                    n_lambda = length(lams), median_s = t$median_s, reps = t$reps,
                    inner_loops = t$inner_loops, max_kkt_violation = k, clock = clock), extra),
             auto_unbox = TRUE, digits = NA), "\n")
}

probs <- fromJSON(file.path(DATA, "problems.json"), simplifyVector = FALSE)$problems
for (s in probs) {
  if (length(only) && !(s$dataset %in% only)) next
  if (s$task == "ridge") {
    d <- load_std(s$dataset)
    ratio <- if (s$n > s$p) 1e-3 else 1e-2
    lmax <- s$lambda_max_lasso / 1e-3
    lams <- exp(seq(log(lmax), log(lmax * ratio), length.out = 100))
    for (thr in c(1e-7, 1e-14)) {
      t <- time_call(function() glmnet(d$X, d$y, alpha = 0, lambda = lams, standardize = FALSE,
                                       intercept = FALSE, thresh = thr))
      B <- as.matrix(t$out$beta)
      emit("ridge_path", s$dataset, if (thr == 1e-7) "glmnet" else "glmnet_thresh1e-14", d,
           lams, t, kkt(d$X, d$y, B, lams, 0))
    }
  }
  if (s$task == "lasso_path") {
    d <- load_std(s$dataset)
    lams <- unlist(s$lambdas)
    foldid <- (seq_len(nrow(d$X)) - 1) %% 10 + 1
    for (thr in c(1e-7, 1e-14)) {
      t <- time_call(function() cv.glmnet(d$X, d$y, alpha = 1, lambda = lams, foldid = foldid,
                                          standardize = FALSE, intercept = FALSE, thresh = thr))
      B <- as.matrix(t$out$glmnet.fit$beta)
      emit("lasso_cv", s$dataset, if (thr == 1e-7) "cv.glmnet" else "cv.glmnet_thresh1e-14", d,
           lams, t, kkt(d$X, d$y, B, lams, 1),
           list(lambda_min = t$out$lambda.min, kkt_note = "full-data path"))
    }
  }
}
