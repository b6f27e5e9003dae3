#!/bin/sh
echo hi "$@"
