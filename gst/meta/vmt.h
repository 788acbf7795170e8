/* Umbrella header of the gstvmt-1.0 library: #include <gst/vmt/vmt.h> */
#pragma once

#include "vmt-prelude.h"
#include "vmtmeta.h"
