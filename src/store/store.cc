#include "kvol/store/store.h"
