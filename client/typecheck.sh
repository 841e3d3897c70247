#!/usr/bin/env bash
# The client package's type check, for CI: installs the pinned dev
# dependencies (TypeScript and each platform's published declarations,
# from package-lock.json) and runs `npm run typecheck`: tsc --noEmit over
# the package and over one typed usage example per platform.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
npm run --silent typecheck
echo "client typecheck: ok (package + wechat qq kuaishou douyin baidu alipay uni taro)"
