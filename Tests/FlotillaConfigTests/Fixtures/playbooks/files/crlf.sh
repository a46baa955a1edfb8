#!/bin/sh
echo windows
