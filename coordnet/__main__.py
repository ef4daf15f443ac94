from coordnet.cli.main import main

main()
