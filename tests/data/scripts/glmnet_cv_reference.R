#!/usr/bin/env Rscript
# R cv.glmnet reference for mapfit's cross-validation (tests/cv_glmnet.rs).
#
# Usage (from the repository root):
#   Rscript tests/data/scripts/glmnet_cv_reference.R tests/data/diabetes.csv tests/data/glmnet_cv_diabetes.json
#
# Data: diabetes.csv, target `progression`, family gaussian, standardize = TRUE, intercept.
# Fold ids: set.seed(20240611); sample(rep(1:10, length.out = n)) (1-based, as cv.glmnet).
# Variants: lasso (alpha = 1) and elastic net (alpha = 0.5), each without and with observation
# weights w_i = 1 + (i - 1) %% 3 (i 1-based). Each variant has a fixed grid of 40 lambdas,
# lambda_max(alpha) * 10^seq(0, -3, length.out = 40) with
# lambda_max(alpha) = max_j |xs_j' (y - ybar)| / (n * alpha) (unweighted, xs standardized with the
# population sd): the same grid is passed to cv.glmnet, so every fold is fitted on it.
# thresh = 1e-30, maxit = 1e8; early stopping cannot occur with a user lambda grid, and
# glmnet.control(fdev = 0, devmax = 1) makes sure of it.
# Written: foldid, lambda, cvm, cvsd, lambda.min, lambda.1se, and the full-data path
# (a0, beta on the original scale of x), every number with 17 significant digits.
# Needs: glmnet (4.1-6 used), jsonlite.
suppressPackageStartupMessages({library(glmnet); library(jsonlite)})
a <- commandArgs(trailingOnly = TRUE)
if (length(a) != 2) stop("usage: Rscript glmnet_cv_reference.R diabetes.csv OUT.json")
d <- read.csv(a[1], check.names = FALSE)
target <- "progression"
y <- d[[target]]; X <- as.matrix(d[, setdiff(names(d), target), drop = FALSE])
n <- nrow(X); p <- ncol(X)
J <- function(x) structure(sprintf("%.17g", x), class = "json")
JA <- function(x) structure(paste0("[", paste(sprintf("%.17g", x), collapse = ","), "]"), class = "json")
glmnet.control(fdev = 0, devmax = 1)
set.seed(20240611)
foldid <- sample(rep(1:10, length.out = n))
w <- 1 + (seq_len(n) - 1) %% 3
mu <- colMeans(X); Xc <- sweep(X, 2, mu, "-"); sdx <- sqrt(colMeans(Xc^2))
ybar <- mean(y)
g <- abs(crossprod(sweep(Xc, 2, sdx, "/"), y - ybar))[, 1] / n
variants <- list()
for (v in c("lasso", "enet", "lasso_weighted", "enet_weighted")) {
  alpha <- if (startsWith(v, "lasso")) 1 else 0.5
  weighted <- endsWith(v, "weighted")
  wv <- if (weighted) w else rep(1, n)
  lambda <- max(g) / alpha * 10^seq(0, -3, length.out = 40)
  cv <- cv.glmnet(X, y, weights = wv, foldid = foldid, lambda = lambda, alpha = alpha,
                  family = "gaussian", standardize = TRUE, intercept = TRUE,
                  type.measure = "mse", thresh = 1e-30, maxit = 1e8)
  fit <- cv$glmnet.fit
  if (fit$jerr != 0) stop(sprintf("glmnet jerr = %d", fit$jerr))
  if (length(cv$lambda) != length(lambda)) stop("path shorter than the grid")
  B <- as.matrix(coef(fit))
  ysd <- sqrt(sum(wv * (y - sum(wv * y) / sum(wv))^2) / sum(wv))
  variants[[v]] <- list(
    alpha = J(alpha), weighted = weighted, y_sd_pop = J(ysd), lambda = JA(cv$lambda),
    cvm = JA(cv$cvm), cvsd = JA(cv$cvsd), lambda_min = J(cv$lambda.min),
    lambda_1se = J(cv$lambda.1se), a0 = JA(B[1, ]),
    beta = lapply(seq_along(lambda), function(k) JA(B[-1, k])))
}
out <- list(data = basename(a[1]), target = target, family = "gaussian", n = n, p = p,
  glmnet = as.character(packageVersion("glmnet")), standardize = TRUE, intercept = TRUE,
  thresh = 1e-30, nfolds = 10,
  fold_rule = "set.seed(20240611); sample(rep(1:10, length.out = n)); 1-based",
  weights_rule = "w_i = 1 + ((i - 1) mod 3) for the *_weighted variants (i 1-based), 1 otherwise",
  cvsd = "sqrt(weighted.mean((cvraw - cvm)^2, fold weight sums) / (nfolds - 1)), cvraw = per-fold weighted mean squared error",
  foldid = foldid, weights = w, variants = variants)
writeLines(toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, digits = NA), a[2])
