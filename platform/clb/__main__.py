from clb.cli import main

main()
