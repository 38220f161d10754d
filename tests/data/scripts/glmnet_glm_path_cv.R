#!/usr/bin/env Rscript
# R glmnet references for mapfit's GLM regularization paths and their cross-validation
# (tests/glm_path_cv.rs).
# Usage (from tests/data): Rscript scripts/glmnet_glm_path_cv.R  -> glmnet_glm_path_cv.json
#
# Paths (glmnet's own generated grid, nlambda = 30, default lambda.min.ratio and early stop;
# thresh = 1e-30, maxit = 1e8), on logit_small.csv (family binomial) and poisson_small.csv
# (family poisson; also a variant with exposure offset log(1 + (i-1) %% 5) and weights
# 1 + ((i-1) %% 3)/2), alpha in {1, 0.5}, standardize TRUE and FALSE.
# Written: lambda (the whole generated grid, i.e. lambda_max first), a0, beta (original
# scale), dev.ratio, nulldev.
#
# Cross-validation: cv.glmnet with foldid = sample(rep(1:10, length.out = n)) after
# set.seed(20261122), a user grid = the first path's 30 lambdas (alpha = 1, standardize TRUE),
# glmnet.control(fdev = 0, devmax = 1), thresh = 1e-30; type.measure deviance, class, auc
# (binomial) and deviance, mse (poisson). Written: foldid, cvm, cvsd, lambda.min, lambda.1se.
# Binomial deviance in cv.glmnet clamps probabilities to [1e-5, 1 - 1e-5]; the script records
# the smallest and largest held-out probability so the test can tell whether it mattered.
# Needs: glmnet (4.1-6 used), jsonlite.
suppressPackageStartupMessages({library(glmnet); library(jsonlite)})
J <- function(x) structure(sprintf("%.17g", x), class = "json")
JA <- function(x) structure(paste0("[", paste(sprintf("%.17g", x), collapse = ","), "]"), class = "json")
read <- function(f) { d <- read.csv(f, check.names = FALSE); list(X = as.matrix(d[, setdiff(names(d), "y")]), y = d$y) }
paths <- list()
path_case <- function(name, family, X, y, w, offset) {
  fits <- list()
  for (std in c(TRUE, FALSE)) for (alpha in c(1, 0.5)) {
    args <- list(x = X, y = y, family = family, alpha = alpha, standardize = std,
                 intercept = TRUE, thresh = 1e-30, maxit = 1e8, nlambda = 30)
    if (!is.null(w)) args$weights <- w
    if (!is.null(offset)) args$offset <- offset
    fit <- do.call(glmnet, args)
    if (fit$jerr != 0) stop(sprintf("glmnet jerr = %d", fit$jerr))
    B <- as.matrix(coef(fit))
    fits[[length(fits) + 1]] <- list(standardize = std, alpha = J(alpha), lambda = JA(fit$lambda),
      a0 = JA(B[1, ]), beta = lapply(seq_len(ncol(B)), function(k) JA(B[-1, k])),
      dev_ratio = JA(fit$dev.ratio), nulldev = J(fit$nulldev))
  }
  paths[[name]] <<- list(family = family, weights = if (is.null(w)) NULL else JA(w),
    offset = if (is.null(offset)) NULL else JA(offset), fits = fits)
}
lg <- read("logit_small.csv"); ps <- read("poisson_small.csv")
n <- nrow(ps$X); i <- 0:(n - 1)
path_case("logit", "binomial", lg$X, lg$y, NULL, NULL)
path_case("poisson", "poisson", ps$X, ps$y, NULL, NULL)
path_case("poisson_offset_weights", "poisson", ps$X, ps$y, 1 + (i %% 3) / 2, log(1 + i %% 5))

glmnet.control(fdev = 0, devmax = 1)
cvs <- list()
cv_case <- function(name, family, X, y, measures) {
  set.seed(20261122)
  foldid <- sample(rep(1:10, length.out = nrow(X)))
  lam <- glmnet(X, y, family = family, alpha = 1, nlambda = 30, thresh = 1e-30, maxit = 1e8)$lambda
  out <- list(family = family, foldid = JA(foldid), lambda = JA(lam))
  for (m in measures) {
    cv <- cv.glmnet(X, y, family = family, alpha = 1, lambda = lam, foldid = foldid,
                    type.measure = m, thresh = 1e-30, maxit = 1e8, keep = TRUE)
    r <- list(cvm = JA(cv$cvm), cvsd = JA(cv$cvsd), lambda_min = J(cv$lambda.min),
              lambda_1se = J(cv$lambda.1se))
    if (family == "binomial") {
      pr <- 1 / (1 + exp(-cv$fit.preval))
      r$prob_range <- JA(range(pr))
    }
    out[[m]] <- r
  }
  cvs[[name]] <<- out
}
cv_case("logit", "binomial", lg$X, lg$y, c("deviance", "class", "auc", "mse"))
cv_case("poisson", "poisson", ps$X, ps$y, c("deviance", "mse"))
out <- list(provenance = "tests/data/scripts/glmnet_glm_path_cv.R",
            glmnet = as.character(packageVersion("glmnet")), thresh = 1e-30,
            paths = paths, cv = cvs)
writeLines(toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, digits = NA, null = "null"),
           "glmnet_glm_path_cv.json")
