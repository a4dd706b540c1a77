/* noop: a process that does nothing, statically linked: the least a
 * command costs to start and end here. bench/engines.sh puts it in a
 * runtime's place in the oci row's floor lines. */
int main(void)
{
	return 0;
}
