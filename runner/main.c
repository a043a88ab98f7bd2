#include <stdio.h>
int main(void) { puts("exprun: under construction"); return 0; }
